# The core commands with the other kubectl releases on the machine, run
# directly (not through the dispatcher), each with a cold cache.

# kv ARGS...: the kubectl release $KV_VER with its own HOME $KV_HOME.
kv() { HOME=$KV_HOME timeout 60 "$KUBECTL_DIR/kubectl.$KV_VER" "$@"; }

# versions_core VERSION CLIENT_VERSION_REGEX
versions_core() {
  KV_VER=$1 KV_HOME=$(fresh_home)
  new_namespace
  local v=$KV_VER
  run_ok kv version
  expect_line "$v: client version" "Client Version: $2" "$OUT"
  expect_line "$v: server version" 'Server Version: v1\.32\.0' "$OUT"
  run_ok kv create -f "$SEEDS/nginxpod.yaml" -n "$NS"
  expect_eq "$v: create -f" "pod/nginxpod created" "$OUT"
  run_out kv get pods -n "$NS"
  expect_line "$v: get pods header" 'NAME +READY +STATUS +RESTARTS +AGE' "$OUT"
  expect_line "$v: get pods" "nginxpod +0/2 +Pending +0 +$AGE_RE" "$OUT"
  run_out kv get pods -n "$NS" -o wide
  expect_line "$v: get -o wide" "nginxpod +0/2 +Pending +0 +$AGE_RE +<none> +<none> +<none> +<none>" "$OUT"
  run_out kv get pod nginxpod -n "$NS" -o json
  expect_eq "$v: -o json" "Pod nginxpod Pending" "$(jfield 'd["kind"]+" "+d["metadata"]["name"]+" "+d["status"]["phase"]' "$OUT")"
  run_out kv describe pod nginxpod -n "$NS"
  expect_line "$v: describe Name" 'Name: +nginxpod' "$OUT"
  expect_line "$v: describe Events" 'Events:.*' "$OUT"
  run_ok kv label pod nginxpod -n "$NS" tier=web
  expect_eq "$v: label" "pod/nginxpod labeled" "$OUT"
  run_ok kv annotate pod nginxpod -n "$NS" note=x
  expect_eq "$v: annotate" "pod/nginxpod annotated" "$OUT"
  run_out kv get pods -n "$NS" -l tier=web --show-labels
  expect_line "$v: -l --show-labels" "nginxpod +0/2 +Pending +0 +$AGE_RE +tier=web" "$OUT"
  run_ok kv apply -f "$SEEDS/nginxrc.yaml" -n "$NS"
  expect_eq "$v: apply" "replicationcontroller/my-nginx created" "$OUT"
  run_ok kv apply -f "$SEEDS/nginxrc.yaml" -n "$NS"
  expect_eq "$v: apply again" "replicationcontroller/my-nginx unchanged" "$OUT"
  run_ok kv scale rc my-nginx --replicas=3 -n "$NS"
  expect_eq "$v: scale" "replicationcontroller/my-nginx scaled" "$OUT"
  run_out kv get rc -n "$NS" -o wide
  expect_line "$v: get rc" "my-nginx +3 +[0-9]+ +0 +$AGE_RE +nginx +nginx +app=nginx" "$OUT"
  run_ok kv expose rc my-nginx --port=80 -n "$NS"
  expect_eq "$v: expose" "service/my-nginx exposed" "$OUT"
  run_ok kv expose rc my-nginx --port=80 --type=LoadBalancer --name=my-second -n "$NS"
  run_out kv get svc -n "$NS"
  expect_line "$v: get svc ClusterIP" "my-nginx +ClusterIP +$SVC_IP_RE +<none> +80/TCP +$AGE_RE" "$OUT"
  expect_line "$v: get svc LoadBalancer" "my-second +LoadBalancer +$SVC_IP_RE +<pending> +80:$NODEPORT_RE/TCP +$AGE_RE" "$OUT"
  run_out kv get all -n "$NS"
  expect_line "$v: get all" "replicationcontroller/my-nginx +3 +[0-9]+ +0 +$AGE_RE" "$OUT"
  run_out kv get pods -A
  expect_line "$v: get pods -A" "$NS +nginxpod +0/2 +Pending +0 +$AGE_RE" "$OUT"
  run_out kv api-resources
  expect_line "$v: api-resources" 'pods +po +v1 +true +Pod' "$OUT"
  run_out kv explain pod.spec.containers
  expect_line "$v: explain" 'FIELD: containers <\[\]Container>' "$OUT"
  run_ok kv delete pod nginxpod -n "$NS"
  expect_eq "$v: delete" 'pod "nginxpod" deleted' "$OUT"
}

test_versions_kubectl_1_30() { versions_core 1.30 'v1\.30\.[0-9]+'; }

test_versions_kubectl_1_33() { versions_core 1.33 'v1\.33\.[0-9]+'; }

# kubectl 1.28 asks for legacy discovery only (no aggregated v2).
test_versions_kubectl_1_28_legacy_discovery() {
  KV_VER=1.28 KV_HOME=$(fresh_home)
  new_namespace
  run_ok kv create -f "$SEEDS/nginxrc.yaml" -n "$NS"
  expect_eq "1.28: create -f" "replicationcontroller/my-nginx created" "$OUT"
  run_out kv get rc -n "$NS"
  expect_line "1.28: get rc" "my-nginx +2 +[0-9]+ +0 +$AGE_RE" "$OUT"
  run_out kv api-resources
  expect_line "1.28: api-resources rc" 'replicationcontrollers +rc +v1 +true +ReplicationController' "$OUT"
  expect_line "1.28: api-resources deployments" 'deployments +deploy +apps/v1 +true +Deployment' "$OUT"
}
