# Bad input: each gets the Status error Kubernetes answers, and nothing stored
# is damaged. Requests go through kubectl where kubectl can send them, through
# curl with the admin certificate otherwise.

test_badinput_malformed_bodies() {
  new_namespace
  local p=/api/v1/namespaces/$NS/pods b
  api POST "$p" "$(body '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"target","labels":{"keep":"me"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}')"
  expect_eq "create target" 201 "$CODE"
  local target; target=$(kubectl get pod target -n "$NS" -o json)
  for b in '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"' 'not json at all' '[]' '42' \
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}}' '{"apiVersion":"v1","kind":"Pod","metadata":"x"}' \
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":7}}' '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":{}}}' \
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","labels":{"a":1}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}'; do
    api POST "$p" "$(body "$b")"
    expect_status "POST $b" 400 BadRequest
  done
  api POST "$p" "$(body '')"
  expect_status "POST with an empty body" 400 BadRequest
  # Without kind and apiVersion the endpoint's kind is assumed, as Kubernetes does.
  api POST "$p" "$(body '{"metadata":{"name":"nokind"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}')"
  expect_eq "POST without kind and apiVersion" "201 Pod v1" "$CODE $(jfield 'd["kind"]+" "+d["apiVersion"]')"
  # YAML bodies are accepted by Kubernetes; broken YAML is a 400.
  api POST "$p" "$(body $'apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-yaml\nspec:\n  containers:\n  - name: c\n    image: nginx\n')" application/yaml
  expect_eq "POST application/yaml" 201 "$CODE"
  api POST "$p" "$(body $'apiVersion: v1\nkind: Pod\nmetadata: [\n  name: x\n')" application/yaml
  expect_status "POST malformed YAML" 400 BadRequest
  api POST "$p" "$(body '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}')" text/plain
  expect_status "POST text/plain" 415 UnsupportedMediaType
  # Malformed patches.
  api PATCH "$p/target" "$(body '{"metadata":')" application/merge-patch+json
  expect_status "PATCH malformed merge patch" 400 BadRequest
  api PATCH "$p/target" "$(body '{"metadata":')" application/strategic-merge-patch+json
  expect_status "PATCH malformed strategic merge patch" 400 BadRequest
  api PATCH "$p/target" "$(body '{"op":"add"}')" application/json-patch+json
  expect_status "PATCH json patch that is no list" 400 BadRequest
  api PATCH "$p/target" "$(body '{"metadata":{"labels":{"a":"b"}}}')" application/json
  expect_status "PATCH with Content-Type application/json" 415 UnsupportedMediaType
  # A malformed PUT.
  api PUT "$p/target" "$(body '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"target"')"
  expect_status "PUT malformed" 400 BadRequest
  # Nothing named x was stored, and target is intact.
  run_out kubectl get pods -n "$NS" -o name
  expect_not_contains "no pod x" "pod/x" "$OUT"
  expect_eq "target intact" "$target" "$(kubectl get pod target -n "$NS" -o json)"
}

test_badinput_wrong_kinds() {
  new_namespace
  api POST "/api/v1/namespaces/$NS/pods" "$(body '{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":[{"port":80}]}}')"
  expect_status "Service to the pods endpoint" 400 BadRequest
  expect_contains "Service to pods: message" 'Service in version "v1" cannot be handled as a Pod' "$(jfield 'd["message"]')"
  api POST "/api/v1/namespaces/$NS/pods" "$(body '{"apiVersion":"apps/v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}')"
  expect_status "Pod in apps/v1" 400 BadRequest
  api POST "/api/v1/namespaces/$NS/pods" "$(body '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}')"
  expect_status "body namespace differs from the URL" 400 BadRequest \
    "the namespace of the provided object does not match the namespace sent on the request"
  api POST "/apis/extensions/v1beta1/namespaces/$NS/jobs" "$(body '{"apiVersion":"extensions/v1beta1","kind":"Job","metadata":{"name":"j"}}')"
  expect_eq "POST to extensions/v1beta1" 404 "$CODE"
  run_out kubectl get pods,svc -n "$NS" -o name
  expect_eq "nothing created" "" "$OUT"

  # kubectl create -f of the extensions/v1beta1 Job fails as it fails on Kubernetes.
  run_fail kubectl create -f "$SEEDS/job-dpkg.yaml" -n "$NS"
  expect_contains "job-dpkg.yaml" 'no matches for kind "Job" in version "extensions/v1beta1"' "$OUT"
  expect_contains "job-dpkg.yaml mapping" "resource mapping not found for name: \"package-check\" namespace: \"\" from \"$SEEDS/job-dpkg.yaml\"" "$OUT"
  run_out kubectl get jobs -n "$NS" -o name
  expect_eq "no job created" "" "$OUT"
}

test_badinput_invalid_objects() {
  new_namespace
  run_fail kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: Bad_Name
spec:
  containers:
  - name: c
    image: nginx
YAML
  expect_eq "invalid pod name" \
    "The Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" "$OUT"
  run_fail kubectl create -f - <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: Bad_NS
YAML
  expect_eq "invalid namespace name" \
    "The Namespace \"Bad_NS\" is invalid: metadata.name: Invalid value: \"Bad_NS\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')" "$OUT"
  run_fail kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: nocontainers
spec:
  containers: []
YAML
  expect_eq "pod without containers" 'The Pod "nocontainers" is invalid: spec.containers: Required value' "$OUT"
  run_fail kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: badport
spec:
  containers:
  - name: c
    image: nginx
    ports:
    - containerPort: 70000
YAML
  expect_eq "container port out of range" \
    'The Pod "badport" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive' "$OUT"
  run_fail kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: dupnames
spec:
  containers:
  - name: c
    image: nginx
  - name: c
    image: busybox
YAML
  expect_eq "duplicate container names" \
    'The Pod "dupnames" is invalid: spec.containers[1].name: Duplicate value: "c"' "$OUT"
  run_fail kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  containers:
  - name: c
YAML
  expect_eq "container without image" \
    'The Pod "noimage" is invalid: spec.containers[0].image: Required value' "$OUT"

  # The Status itself: 422, reason Invalid, with causes.
  api POST "/api/v1/namespaces/$NS/pods" "$(body '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}')"
  expect_status "POST invalid name" 422 Invalid
  expect_match "invalid name message" '^Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' "$(jfield 'd["message"]')"
  expect_eq "invalid name details" 'Pod Bad_Name FieldValueInvalid metadata.name' \
    "$(jfield '" ".join([d["details"]["kind"], d["details"]["name"], d["details"]["causes"][0]["reason"], d["details"]["causes"][0]["field"]])')"
  api POST "/api/v1/namespaces/$NS/pods" "$(body '{"apiVersion":"v1","kind":"Pod","metadata":{},"spec":{"containers":[{"name":"c","image":"nginx"}]}}')"
  expect_status "POST without a name" 422 Invalid \
    'Pod "" is invalid: metadata.name: Required value: name or generateName is required'
  run_out kubectl get pods -n "$NS" -o name
  expect_eq "no invalid pod stored" "" "$OUT"
}

test_badinput_unknown_fields() {
  new_namespace
  local pod='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME","foo":1},"spec":{"containers":[{"name":"c","image":"nginx","bar":true}]}}'
  run_fail kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: strict
spec:
  foo: bar
  containers:
  - name: c
    image: nginx
YAML
  expect_eq "kubectl create with an unknown field" \
    'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"' "$OUT"
  api POST "/api/v1/namespaces/$NS/pods?fieldValidation=Strict" "$(body "${pod/NAME/strict}")"
  expect_status "Strict" 400 BadRequest
  expect_contains "Strict: metadata.foo" 'unknown field "metadata.foo"' "$(jfield 'd["message"]')"
  expect_contains "Strict: containers[0].bar" 'unknown field "spec.containers[0].bar"' "$(jfield 'd["message"]')"
  # Warn (the default): created, with a Warning header per unknown field.
  api POST "/api/v1/namespaces/$NS/pods" "$(body "${pod/NAME/warned}")"
  expect_eq "default fieldValidation creates" 201 "$CODE"
  expect_contains "Warning header" 'Warning: 299 - "unknown field \"metadata.foo\""' "$HEADERS"
  api POST "/api/v1/namespaces/$NS/pods?fieldValidation=Ignore" "$(body "${pod/NAME/ignored}")"
  expect_eq "Ignore creates" 201 "$CODE"
  expect_not_contains "Ignore: no Warning header" 'Warning:' "$HEADERS"
  api GET "/api/v1/namespaces/$NS/pods/ignored"
  expect_eq "unknown fields dropped" "None None" "$(jfield 'str(d["metadata"].get("foo"))+" "+str(d["spec"]["containers"][0].get("bar"))')"
  # kubectl --validate=false sends fieldValidation=Ignore.
  run_ok kubectl create --validate=false -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: unvalidated
spec:
  foo: bar
  containers:
  - name: c
    image: nginx
YAML
  expect_eq "create --validate=false" "pod/unvalidated created" "$OUT"
  run_out kubectl get pods -n "$NS" -o name
  expect_eq "pods" $'pod/ignored\npod/unvalidated\npod/warned' "$(sort <<<"$OUT")"
  api POST "/api/v1/namespaces/$NS/pods?fieldValidation=Sloppy" "$(body "${pod/NAME/sloppy}")"
  expect_status "fieldValidation=Sloppy" 400 BadRequest
}

test_badinput_huge_body() {
  new_namespace
  local f=$E2E_WORK/huge.json
  "$PYTHON" -c '
import json, sys
print(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"}, "data": {"k": "x" * (4 << 20)}}))' >"$f"
  api POST "/api/v1/namespaces/$NS/configmaps" "$f"
  expect_eq "4 MiB body" 413 "$CODE"
  expect_eq "4 MiB body: reason" RequestEntityTooLarge "$(jfield 'd.get("reason")')"
  # The server still answers on a new connection, and a 512 KiB object is fine.
  "$PYTHON" -c '
import json
print(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": "y" * (512 << 10)}}))' >"$f"
  api POST "/api/v1/namespaces/$NS/configmaps" "$f"
  expect_eq "512 KiB configmap" 201 "$CODE"
  api GET "/api/v1/namespaces/$NS/configmaps/big"
  expect_eq "512 KiB configmap read back" $((512 << 10)) "$(jfield 'len(d["data"]["k"])')"
  run_out kubectl get configmaps -n "$NS" -o name
  expect_eq "no huge configmap" "configmap/big" "$(grep -v kube-root-ca <<<"$OUT")"
}

test_badinput_conflicts_and_missing() {
  new_namespace
  local cm='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"},"data":{"v":"1"}}'
  api POST "/api/v1/namespaces/$NS/configmaps" "$(body "$cm")"
  expect_eq "create cm1" 201 "$CODE"
  local old=$BODY
  api POST "/api/v1/namespaces/$NS/configmaps" "$(body "$cm")"
  expect_status "create twice" 409 AlreadyExists 'configmaps "cm1" already exists'
  # Update with the current resourceVersion, then with the stale one.
  local upd; upd=$("$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); d["data"]={"v":"2"}; print(json.dumps(d))' "$old")
  api PUT "/api/v1/namespaces/$NS/configmaps/cm1" "$(body "$upd")"
  expect_eq "update with the current resourceVersion" 200 "$CODE"
  expect_eq "updated value" 2 "$(jfield 'd["data"]["v"]')"
  upd=$("$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); d["data"]={"v":"stale"}; print(json.dumps(d))' "$old")
  api PUT "/api/v1/namespaces/$NS/configmaps/cm1" "$(body "$upd")"
  expect_status "update with a stale resourceVersion" 409 Conflict \
    'Operation cannot be fulfilled on configmaps "cm1": the object has been modified; please apply your changes to the latest version and try again'
  # kubectl replace with the stale object says the same.
  printf '%s' "$upd" >"$E2E_WORK/stale-cm.json"
  run_fail kubectl replace -f "$E2E_WORK/stale-cm.json" -n "$NS"
  expect_eq "kubectl replace stale" \
    "Error from server (Conflict): error when replacing \"$E2E_WORK/stale-cm.json\": Operation cannot be fulfilled on configmaps \"cm1\": the object has been modified; please apply your changes to the latest version and try again" "$OUT"
  api GET "/api/v1/namespaces/$NS/configmaps/cm1"
  expect_eq "value after the stale updates" 2 "$(jfield 'd["data"]["v"]')"
  # Name in the body differs from the URL.
  api PUT "/api/v1/namespaces/$NS/configmaps/cm2" "$(body "$upd")"
  expect_status "PUT with another name" 400 BadRequest
  # Missing objects.
  api GET "/api/v1/namespaces/$NS/configmaps/nope"
  expect_status "GET missing" 404 NotFound 'configmaps "nope" not found'
  api DELETE "/api/v1/namespaces/$NS/configmaps/nope"
  expect_status "DELETE missing" 404 NotFound 'configmaps "nope" not found'
  run_fail kubectl delete pod nope -n "$NS"
  expect_eq "kubectl delete missing" 'Error from server (NotFound): pods "nope" not found' "$OUT"
  # Missing namespace.
  api POST "/api/v1/namespaces/missing-$NS/configmaps" "$(body "$cm")"
  expect_status "create in a missing namespace" 404 NotFound "namespaces \"missing-$NS\" not found"
  expect_eq "missing namespace details" "missing-$NS namespaces" "$(jfield 'd["details"]["name"]+" "+d["details"]["kind"]')"
  run_fail kubectl create -f "$SEEDS/nginxpod.yaml" -n "missing-$NS"
  expect_eq "kubectl create in a missing namespace" \
    "Error from server (NotFound): error when creating \"$SEEDS/nginxpod.yaml\": namespaces \"missing-$NS\" not found" "$OUT"
  api GET "/api/v1/namespaces/missing-$NS/pods"
  expect_eq "list in a missing namespace" "200 PodList 0" "$CODE $(jfield 'd["kind"]+" "+str(len(d["items"]))')"
}

test_badinput_protobuf_generators() {
  local n=e2e-pb-$RANDOM
  if kubectl create namespace "$n" >"$E2E_WORK/pb.out" 2>&1; then
    expect_eq "create namespace" "namespace/$n created" "$(cat "$E2E_WORK/pb.out")"
    run_out kubectl get namespace "$n"
    expect_line "the namespace exists" "$n +Active +$AGE_RE" "$OUT"
    run_ok kubectl create configmap gen -n "$n" --from-literal=a=b
    expect_eq "create configmap" "configmap/gen created" "$OUT"
    run_out kubectl get configmap gen -n "$n" -o jsonpath='{.data.a}'
    expect_eq "configmap data" b "$OUT"
  else
    OUT=$(cat "$E2E_WORK/pb.out"); log "    protobuf body refused: $OUT"
    expect_contains "protobuf refused with a hint" "create -f" "$OUT"
    expect_contains "protobuf refused as 415" "UnsupportedMediaType" "$OUT"
    run_fail kubectl get namespace "$n"
  fi
}

test_badinput_fuzz_batch() {
  new_namespace
  local fz=$NS sentinel
  new_namespace; sentinel=$NS
  run_ok kubectl create -f "$SEEDS/nginxpod.yaml" -n "$sentinel"
  run_ok kubectl create -f "$SEEDS/nginxrc.yaml" -n "$sentinel"
  run_ok kubectl create -f "$SEEDS/nginxsvc.yaml" -n "$sentinel"
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"},"data":{"k":"v"}}' >"$E2E_WORK/keep.json"
  run_ok kubectl create -f "$E2E_WORK/keep.json" -n "$sentinel"
  local before after seed=${FUZZ_SEED:-$RANDOM}
  before=$(kubectl get pods,rc,svc,configmaps -n "$sentinel" -o json)
  local kube_before; kube_before=$(kubectl get svc kubernetes -n default -o json)
  local summary
  summary=$(timeout 180 "$PYTHON" "$E2E_TOOLS/fuzz.py" "$SERVER_URL" "$CERTS" "$fz" "$seed" 200) ||
    fail "fuzz.py failed (seed $seed): $summary"
  log "    fuzz (seed $seed): $(jfield 'd["codes"]' "$summary")"
  expect_eq "fuzz requests sent" 200 "$(jfield 'd["total"]' "$summary")"
  local bad; bad=$(jfield '"\n".join(d["bad"])' "$summary")
  expect_eq "fuzz: answers that are 5xx, dropped, or no Status (seed $seed)" "" "$bad"
  kill -0 "$SERVER_PID" 2>/dev/null || { fail "the server died during the fuzz batch (seed $seed)"; return; }
  api GET /readyz
  expect_eq "readyz after fuzz" "200 ok" "$CODE $BODY"
  after=$(kubectl get pods,rc,svc,configmaps -n "$sentinel" -o json)
  expect_eq "objects created before are intact" "$before" "$after"
  expect_eq "the kubernetes service is intact" "$kube_before" "$(kubectl get svc kubernetes -n default -o json)"
  # What the fuzzer managed to create is still listable and printable.
  run_ok kubectl get all -n "$fz"
  run_ok kubectl get pods,svc,rc,cm -n "$fz" -o json
  expect_eq "fuzz namespace lists as JSON" List "$(jfield 'd["kind"]' "$OUT")"
  run_ok kubectl get pods -A
}
