# apply (create, unchanged, configured, pruning removed fields), patch types,
# set image, immutable pod fields.

test_apply_create_unchanged_configured() {
  new_namespace
  local m=$E2E_WORK/apply-$NS.yaml
  cp "$SEEDS/nginxpod.yaml" "$m"
  run_ok kubectl apply -f "$m" -n "$NS"
  expect_eq "apply (absent)" "pod/nginxpod created" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}'
  expect_eq "last-applied-configuration name" nginxpod "$(jfield 'd["metadata"]["name"]' "$OUT")"
  run_ok kubectl apply -f "$m" -n "$NS"
  expect_eq "apply (same)" "pod/nginxpod unchanged" "$OUT"
  local rv; rv=$(kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.resourceVersion}')

  sed -i 's/^  name: nginxpod$/  name: nginxpod\n  labels:\n    tier: web/' "$m"
  run_ok kubectl apply -f "$m" -n "$NS"
  expect_eq "apply (changed)" "pod/nginxpod configured" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.labels} {.metadata.resourceVersion}'
  expect_match "labels after apply" '^\{"tier":"web"\} [0-9]+$' "$OUT"
  [[ "${OUT#* }" != "$rv" ]] || fail "resourceVersion did not change on apply"
  run_ok kubectl apply -f "$m" -n "$NS"
  expect_eq "apply (same again)" "pod/nginxpod unchanged" "$OUT"
  # A field dropped from the manifest is removed from the object.
  cp "$SEEDS/nginxpod.yaml" "$m"
  run_ok kubectl apply -f "$m" -n "$NS"
  expect_eq "apply (label dropped)" "pod/nginxpod configured" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.labels}'
  expect_eq "labels after dropping them" "" "$OUT"

  # RC: scale by apply.
  cp "$SEEDS/nginxrc.yaml" "$E2E_WORK/apply-rc-$NS.yaml"
  run_ok kubectl apply -f "$E2E_WORK/apply-rc-$NS.yaml" -n "$NS"
  expect_eq "apply rc" "replicationcontroller/my-nginx created" "$OUT"
  sed -i 's/replicas: 2/replicas: 3/' "$E2E_WORK/apply-rc-$NS.yaml"
  run_ok kubectl apply -f "$E2E_WORK/apply-rc-$NS.yaml" -n "$NS"
  expect_eq "apply rc (changed)" "replicationcontroller/my-nginx configured" "$OUT"
  run_out kubectl get rc my-nginx -n "$NS"
  expect_line "rc after apply" "my-nginx +3 +[0-9]+ +0 +$AGE_RE" "$OUT"

  # Service: server-assigned fields (clusterIP, targetPort, ...) are no diff.
  run_ok kubectl apply -f "$SEEDS/nginxsvc.yaml" -n "$NS"
  expect_eq "apply svc" "service/nginxsvc created" "$OUT"
  local ip; ip=$(kubectl get svc nginxsvc -n "$NS" -o jsonpath='{.spec.clusterIP}')
  run_ok kubectl apply -f "$SEEDS/nginxsvc.yaml" -n "$NS"
  expect_eq "apply svc (same)" "service/nginxsvc unchanged" "$OUT"
  expect_eq "clusterIP kept by apply" "$ip" "$(kubectl get svc nginxsvc -n "$NS" -o jsonpath='{.spec.clusterIP}')"

  # A directory of manifests.
  local dir=$E2E_WORK/apply-dir-$NS
  mkdir -p "$dir"
  cp "$SEEDS/onepod-multicontiner01.yaml" "$SEEDS/onepod-multicontiner02.yaml" "$dir/"
  run_ok kubectl apply -f "$dir" -n "$NS"
  expect_eq "apply dir" $'pod/onepod-multicontiner01 created\npod/onepod-multicontiner02 created' "$OUT"
}

test_apply_patch_types() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/nginxpod.yaml" -n "$NS"
  run_ok kubectl patch pod nginxpod -n "$NS" -p '{"metadata":{"labels":{"a":"1"}}}'
  expect_eq "strategic merge patch" "pod/nginxpod patched" "$OUT"
  run_ok kubectl patch pod nginxpod -n "$NS" --type=merge -p '{"metadata":{"labels":{"b":"2"}}}'
  expect_eq "merge patch" "pod/nginxpod patched" "$OUT"
  run_ok kubectl patch pod nginxpod -n "$NS" --type=json -p '[{"op":"add","path":"/metadata/labels/c","value":"3"},{"op":"remove","path":"/metadata/labels/a"}]'
  expect_eq "json patch" "pod/nginxpod patched" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.metadata.labels}'
  expect_eq "labels after patches" '{"b":"2","c":"3"}' "$OUT"
  run_ok kubectl patch pod nginxpod -n "$NS" --type=merge -p '{"metadata":{"labels":{"b":"2"}}}'
  expect_eq "patch without change" "pod/nginxpod patched (no change)" "$OUT"
  # Strategic merge of containers by name: only nginx8800's image changes.
  run_ok kubectl patch pod nginxpod -n "$NS" -p '{"spec":{"containers":[{"name":"nginx8800","image":"nginx:1.25"}]}}'
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.spec.containers[*].name}/{.spec.containers[*].image}'
  expect_eq "image patched" "nginx80 nginx8800/nginx nginx:1.25" "$OUT"
  run_ok kubectl set image pod/nginxpod -n "$NS" nginx80=nginx:1.27
  expect_eq "set image" "pod/nginxpod image updated" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.spec.containers[0].image}'
  expect_eq "image after set image" "nginx:1.27" "$OUT"
  # Pod spec fields other than images are immutable.
  run_fail kubectl patch pod nginxpod -n "$NS" -p '{"spec":{"restartPolicy":"Never"}}'
  expect_contains "immutable pod spec" 'The Pod "nginxpod" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`' "$OUT"
  run_fail kubectl patch pod nginxpod -n "$NS" --type=json -p '[{"op":"replace","path":"/metadata/labels/nope","value":"x"}]'
  # Kubernetes answers 422 without details: kubectl prints "The request is invalid: ...".
  expect_match "json patch on a missing path" '^The request is invalid: ' "$OUT"
  run_fail kubectl patch pod nope -n "$NS" -p '{"metadata":{"labels":{"a":"1"}}}'
  expect_eq "patch a missing pod" 'Error from server (NotFound): pods "nope" not found' "$OUT"
}
