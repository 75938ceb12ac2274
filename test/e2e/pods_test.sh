# Pods from the seed manifests: create, get (all output forms), describe,
# label, annotate, delete. There is no node yet, so pods stay Pending.

test_pods_create_get_describe_delete() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/nginxpod.yaml" -n "$NS"
  expect_eq "create -f" "pod/nginxpod created" "$OUT"

  run_out kubectl get pods -n "$NS"
  expect_line "get pods header" 'NAME +READY +STATUS +RESTARTS +AGE' "$OUT"
  expect_line "get pods row" "nginxpod +0/2 +Pending +0 +$AGE_RE" "$OUT"
  expect_eq "get pods rows" 2 "$(wc -l <<<"$OUT")"

  run_out kubectl get pod nginxpod -n "$NS" -o wide
  expect_line "get -o wide header" 'NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES' "$OUT"
  expect_line "get -o wide row" "nginxpod +0/2 +Pending +0 +$AGE_RE +<none> +<none> +<none> +<none>" "$OUT"

  run_out kubectl get po -n "$NS" -o name
  expect_eq "get -o name" "pod/nginxpod" "$OUT"

  run_out kubectl get pod nginxpod -n "$NS" -o json
  local json=$OUT
  expect_eq "-o json kind" Pod "$(jfield 'd["kind"]' "$json")"
  expect_eq "-o json apiVersion" v1 "$(jfield 'd["apiVersion"]' "$json")"
  expect_eq "-o json name/namespace" "nginxpod $NS" "$(jfield 'd["metadata"]["name"]+" "+d["metadata"]["namespace"]' "$json")"
  expect_match "-o json uid" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "$(jfield 'd["metadata"]["uid"]' "$json")"
  expect_match "-o json resourceVersion" '^[0-9]+$' "$(jfield 'd["metadata"]["resourceVersion"]' "$json")"
  expect_match "-o json creationTimestamp" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
    "$(jfield 'd["metadata"]["creationTimestamp"]' "$json")"
  expect_eq "-o json containers" "nginx80 nginx8800" "$(jfield '" ".join(c["name"] for c in d["spec"]["containers"])' "$json")"
  expect_eq "-o json status.phase" Pending "$(jfield 'd["status"]["phase"]' "$json")"

  run_out kubectl get pod nginxpod -n "$NS" -o yaml
  expect_line "-o yaml kind" 'kind: Pod' "$OUT"
  expect_line "-o yaml apiVersion" 'apiVersion: v1' "$OUT"
  expect_line "-o yaml name" '  name: nginxpod' "$OUT"
  expect_line "-o yaml phase" '  phase: Pending' "$OUT"

  run_out kubectl describe pod nginxpod -n "$NS"
  expect_line "describe Name" 'Name: +nginxpod' "$OUT"
  expect_line "describe Namespace" "Namespace: +$NS" "$OUT"
  expect_line "describe Node" 'Node: +<none>' "$OUT"
  expect_line "describe Status" 'Status: +Pending' "$OUT"
  expect_line "describe Containers" 'Containers:' "$OUT"
  expect_line "describe container nginx80" '  nginx80:' "$OUT"
  expect_line "describe container nginx8800" '  nginx8800:' "$OUT"
  expect_line "describe Image" '    Image: +msfuko/nginx_8800' "$OUT"
  expect_line "describe Port" '    Port: +8800/TCP' "$OUT"
  expect_line "describe Host Port" '    Host Port: +8800/TCP' "$OUT"
  expect_line "describe QoS" 'QoS Class: +BestEffort' "$OUT"
  expect_line "describe Events" 'Events:.*' "$OUT"

  run_fail kubectl create -f "$SEEDS/nginxpod.yaml" -n "$NS"
  expect_eq "create twice" \
    "Error from server (AlreadyExists): error when creating \"$SEEDS/nginxpod.yaml\": pods \"nginxpod\" already exists" "$OUT"

  local t0=$SECONDS
  run_ok kubectl delete pod nginxpod -n "$NS"
  expect_eq "delete" 'pod "nginxpod" deleted' "$OUT"
  ((SECONDS - t0 <= 10)) || fail "delete took $((SECONDS - t0))s (an unscheduled pod is deleted at once)"
  run_fail kubectl get pod nginxpod -n "$NS"
  expect_eq "get after delete" 'Error from server (NotFound): pods "nginxpod" not found' "$OUT"
  run_out kubectl get pods -n "$NS"
  expect_eq "empty list stdout" "" "$OUT"
  expect_eq "empty list stderr" "No resources found in $NS namespace." "$ERR"
}

test_pods_defaults() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/onepod-multicontiner01.yaml" -n "$NS"
  expect_eq "create -f" "pod/onepod-multicontiner01 created" "$OUT"
  local jp='{.spec.restartPolicy} {.spec.dnsPolicy} {.spec.schedulerName} {.spec.terminationGracePeriodSeconds} {.spec.enableServiceLinks} {.spec.containers[0].imagePullPolicy} {.spec.containers[0].terminationMessagePath} {.spec.containers[0].terminationMessagePolicy} {.spec.containers[0].ports[0].protocol} {.status.phase} {.status.qosClass} {.metadata.generation}'
  # (Pods have no metadata.generation before Kubernetes 1.33.)
  run_out kubectl get pod onepod-multicontiner01 -n "$NS" -o jsonpath="$jp"
  expect_eq "pod defaults" \
    "Always ClusterFirst default-scheduler 30 true IfNotPresent /dev/termination-log File TCP Pending BestEffort " "$OUT"
  # An image without a tag (or :latest) is pulled Always.
  run_ok kubectl create -f "$SEEDS/nginxpod.yaml" -n "$NS"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.spec.containers[*].imagePullPolicy}'
  expect_eq "imagePullPolicy of untagged images" "Always Always" "$OUT"
  run_out kubectl get pods -n "$NS"
  expect_line "two containers" "onepod-multicontiner01 +0/2 +Pending +0 +$AGE_RE" "$OUT"
  # generateName
  run_ok kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  generateName: gen-
spec:
  containers:
  - name: c
    image: busybox:1.36
YAML
  expect_match "generateName" '^pod/gen-[a-z0-9]{5} created$' "$OUT"
}

test_pods_selectors_and_listing() {
  new_namespace
  local f
  for f in onepod-multicontiner02 nginxpod onepod-multicontiner01; do
    run_ok kubectl create -f "$SEEDS/$f.yaml" -n "$NS"
  done
  run_ok kubectl label pod nginxpod -n "$NS" app=nginx tier=web
  expect_eq "label" "pod/nginxpod labeled" "$OUT"
  run_ok kubectl label pod onepod-multicontiner01 -n "$NS" app=other
  run_out kubectl get pods -n "$NS" -l app=nginx
  expect_line "get -l row" "nginxpod +0/2 +Pending +0 +$AGE_RE" "$OUT"
  expect_eq "get -l rows" 2 "$(wc -l <<<"$OUT")"
  run_out kubectl get pods -n "$NS" -l 'app in (nginx,other)' -o name
  expect_eq "get -l set" $'pod/nginxpod\npod/onepod-multicontiner01' "$(sort <<<"$OUT")"
  run_out kubectl get pods -n "$NS" -l '!app' -o name
  expect_eq "get -l !app" "pod/onepod-multicontiner02" "$OUT"
  run_out kubectl get pods -n "$NS" -l app=nginx -o json
  expect_eq "get -l -o json kind" List "$(jfield 'd["kind"]' "$OUT")"
  expect_eq "get -l -o json items" '["nginxpod"]' "$(jfield '[i["metadata"]["name"] for i in d["items"]]' "$OUT")"
  expect_eq "get -l -o json item kind" Pod "$(jfield 'd["items"][0]["kind"]' "$OUT")"
  run_out kubectl get pods -n "$NS" --field-selector metadata.name=nginxpod -o name
  expect_eq "field selector" "pod/nginxpod" "$OUT"
  run_out kubectl get pods -n "$NS" --field-selector status.phase=Running -o name
  expect_eq "field selector Running" "" "$OUT"

  run_out kubectl get pods -n "$NS" --show-labels
  expect_line "--show-labels header" 'NAME +READY +STATUS +RESTARTS +AGE +LABELS' "$OUT"
  expect_line "--show-labels nginxpod" "nginxpod +0/2 +Pending +0 +$AGE_RE +app=nginx,tier=web" "$OUT"
  expect_line "--show-labels none" "onepod-multicontiner02 +0/2 +Pending +0 +$AGE_RE +<none>" "$OUT"

  run_out kubectl get pods -n "$NS" --sort-by=.metadata.name
  expect_eq "--sort-by=.metadata.name" "NAME nginxpod onepod-multicontiner01 onepod-multicontiner02" \
    "$(awk '{print $1}' <<<"$OUT" | xargs)"
  run_out kubectl get pods -n "$NS" --sort-by='{.spec.containers[0].name}' -o name
  expect_eq "--sort-by=container name" "pod/onepod-multicontiner02 pod/onepod-multicontiner01 pod/nginxpod" "$(xargs <<<"$OUT")"

  run_out kubectl get pods -A
  expect_line "-A header" 'NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE' "$OUT"
  expect_line "-A row" "$NS +nginxpod +0/2 +Pending +0 +$AGE_RE" "$OUT"
  expect_line "-A row 2" "$NS +onepod-multicontiner02 +0/2 +Pending +0 +$AGE_RE" "$OUT"
  run_out kubectl get pods --all-namespaces -o wide
  expect_line "-A -o wide" "$NS +nginxpod +0/2 +Pending +0 +$AGE_RE +<none> +<none> +<none> +<none>" "$OUT"

  run_fail kubectl label pod nginxpod -n "$NS" tier=db
  expect_eq "label without --overwrite" "error: 'tier' already has a value (web), and --overwrite is false" "$OUT"
  run_ok kubectl label pod nginxpod -n "$NS" tier=db --overwrite
  expect_eq "label --overwrite" "pod/nginxpod labeled" "$OUT"
  run_ok kubectl label pod nginxpod -n "$NS" tier-
  expect_eq "unlabel" "pod/nginxpod unlabeled" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.labels}'
  expect_eq "labels after unlabel" '{"app":"nginx"}' "$OUT"

  run_ok kubectl annotate pod nginxpod -n "$NS" owner=team-a description='two nginx containers'
  expect_eq "annotate" "pod/nginxpod annotated" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.annotations.owner}/{.metadata.annotations.description}'
  expect_eq "annotations" "team-a/two nginx containers" "$OUT"
  run_out kubectl describe pod nginxpod -n "$NS"
  expect_line "describe Labels" 'Labels: +app=nginx' "$OUT"
  expect_line "describe Annotations" 'Annotations: +description: two nginx containers' "$OUT"
  run_ok kubectl annotate pod nginxpod -n "$NS" owner-
  expect_eq "annotate remove" "pod/nginxpod annotated" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.annotations}'
  expect_eq "annotations after removal" '{"description":"two nginx containers"}' "$OUT"

  local t0=$SECONDS
  run_ok kubectl delete -f "$SEEDS/nginxpod.yaml" -n "$NS"
  expect_eq "delete -f" 'pod "nginxpod" deleted' "$OUT"
  run_ok kubectl delete pods -n "$NS" --all
  expect_eq "delete --all" $'pod "onepod-multicontiner01" deleted\npod "onepod-multicontiner02" deleted' "$(sort <<<"$OUT")"
  ((SECONDS - t0 <= 15)) || fail "deletes took $((SECONDS - t0))s"
}

test_pods_get_all_namespaces_and_nodes() {
  run_out kubectl get namespaces
  expect_line "get ns header" 'NAME +STATUS +AGE' "$OUT"
  expect_line "get ns default" "default +Active +$AGE_RE" "$OUT"
  expect_line "get ns kube-system" "kube-system +Active +$AGE_RE" "$OUT"
  run_out kubectl get nodes
  expect_eq "no nodes yet" "" "$OUT"
  expect_eq "no nodes message" "No resources found" "$ERR"
}
