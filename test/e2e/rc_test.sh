# ReplicationControllers: create from the seeds, defaulting, get, scale, edit,
# describe, delete.

test_rc_create_get_describe() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/nginxrc.yaml" -n "$NS"
  expect_eq "create -f" "replicationcontroller/my-nginx created" "$OUT"
  run_out kubectl get rc -n "$NS"
  expect_line "get rc header" 'NAME +DESIRED +CURRENT +READY +AGE' "$OUT"
  expect_line "get rc row" "my-nginx +2 +[0-9]+ +0 +$AGE_RE" "$OUT"
  run_out kubectl get replicationcontroller my-nginx -n "$NS" -o wide
  expect_line "get rc -o wide header" 'NAME +DESIRED +CURRENT +READY +AGE +CONTAINERS +IMAGES +SELECTOR' "$OUT"
  expect_line "get rc -o wide row" "my-nginx +2 +[0-9]+ +0 +$AGE_RE +nginx +nginx +app=nginx" "$OUT"
  # The API server defaults the selector and the labels from the template.
  run_out kubectl get rc my-nginx -n "$NS" -o jsonpath='{.spec.selector} {.metadata.labels} {.metadata.generation} {.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].ports[0].protocol}'
  expect_eq "rc defaults" '{"app":"nginx"} {"app":"nginx"} 1 Always TCP' "$OUT"
  run_out kubectl get rc -n "$NS" --show-labels
  expect_line "get rc --show-labels" "my-nginx +2 +[0-9]+ +0 +$AGE_RE +app=nginx" "$OUT"

  run_ok kubectl create -f "$SEEDS/nginx-rc.yaml" -n "$NS"
  expect_eq "create -f nginx-rc.yaml" "replicationcontroller/podtoservcie created" "$OUT"
  run_out kubectl get rc -n "$NS" -o wide
  expect_line "podtoservcie -o wide" "podtoservcie +2 +[0-9]+ +0 +$AGE_RE +nginx-podtoservice +nginx +app=nginx" "$OUT"

  run_out kubectl describe rc my-nginx -n "$NS"
  expect_line "describe Name" 'Name: +my-nginx' "$OUT"
  expect_line "describe Namespace" "Namespace: +$NS" "$OUT"
  expect_line "describe Selector" 'Selector: +app=nginx' "$OUT"
  expect_line "describe Labels" 'Labels: +app=nginx' "$OUT"
  expect_line "describe Replicas" 'Replicas: +[0-9]+ current / 2 desired' "$OUT"
  expect_line "describe Pod Template" 'Pod Template:' "$OUT"
  expect_line "describe Image" '    Image: +nginx' "$OUT"
  expect_line "describe Events" 'Events:.*' "$OUT"
}

test_rc_scale_edit_delete() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/nginxrc.yaml" -n "$NS"
  run_ok kubectl scale rc my-nginx --replicas=3 -n "$NS"
  expect_eq "scale" "replicationcontroller/my-nginx scaled" "$OUT"
  run_out kubectl get rc my-nginx -n "$NS"
  expect_line "DESIRED after scale" "my-nginx +3 +[0-9]+ +0 +$AGE_RE" "$OUT"
  run_out kubectl get rc my-nginx -n "$NS" -o jsonpath='{.spec.replicas} {.metadata.generation}'
  expect_eq "spec.replicas and generation after scale" "3 2" "$OUT"
  # The scale subresource itself.
  api GET "/api/v1/namespaces/$NS/replicationcontrollers/my-nginx/scale"
  expect_eq "GET scale" "200 Scale autoscaling/v1 3 app=nginx" \
    "$CODE $(jfield 'd["kind"]+" "+d["apiVersion"]+" "+str(d["spec"]["replicas"])+" "+d["status"]["selector"]')"
  run_fail kubectl scale rc my-nginx --replicas=5 --current-replicas=2 -n "$NS"
  expect_contains "scale with a wrong precondition" "Expected replicas to be 2, was 3" "$OUT"

  # edit, non-interactively: the editor is a script that changes the file.
  local editor=$E2E_WORK/edit-replicas.sh
  printf '#!/bin/sh\nsed -i "s/replicas: 3/replicas: 4/" "$1"\n' >"$editor"
  chmod +x "$editor"
  run_ok timeout 60 env EDITOR="$editor" "$KUBECTL_BIN" edit rc my-nginx -n "$NS"
  expect_eq "edit" "replicationcontroller/my-nginx edited" "$OUT"
  run_out kubectl get rc my-nginx -n "$NS"
  expect_line "DESIRED after edit" "my-nginx +4 +[0-9]+ +0 +$AGE_RE" "$OUT"
  # An EDITOR command line with arguments (kubectl runs it with a shell).
  run_ok timeout 60 env EDITOR="sed -i s/replicas:\ 4/replicas:\ 2/" "$KUBECTL_BIN" edit rc/my-nginx -n "$NS"
  expect_eq "edit with sed" "replicationcontroller/my-nginx edited" "$OUT"
  run_out kubectl get rc my-nginx -n "$NS" -o jsonpath='{.spec.replicas}'
  expect_eq "replicas after second edit" 2 "$OUT"
  run_ok timeout 60 env EDITOR=true "$KUBECTL_BIN" edit rc my-nginx -n "$NS"
  expect_eq "edit without change" "Edit cancelled, no changes made." "$OUT"
  local t0=$SECONDS
  run_ok kubectl delete rc my-nginx -n "$NS"
  expect_eq "delete rc" 'replicationcontroller "my-nginx" deleted' "$OUT"
  ((SECONDS - t0 <= 10)) || fail "delete rc took $((SECONDS - t0))s"
  run_fail kubectl get rc my-nginx -n "$NS"
  expect_eq "get after delete" 'Error from server (NotFound): replicationcontrollers "my-nginx" not found' "$OUT"
}
