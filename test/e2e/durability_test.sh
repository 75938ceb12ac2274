# Durability: kill -9 of the server in the middle of a stream of creates loses
# no acknowledged object; a restart keeps Service IP and nodePort allocations.
# These tests run their own server on their own data dir.

# lines_at_least FILE N
lines_at_least() { (($(wc -l <"$1") >= $2)); }

test_durability_kill9_during_creates() {
  local dir=$E2E_WORK/durable acks=$E2E_WORK/durable-acks
  spawn_server "$dir" || { fail "second server did not start"; return; }
  local pid=$SPAWN_PID certs=$SPAWN_CERTS
  local ca_before; ca_before=$(cat "$certs/ca.crt")
  api POST /api/v1/namespaces "$(body '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"durable"}}')" \
    application/json "$SPAWN_URL" "$certs"
  expect_eq "create namespace durable" 201 "$CODE"
  # A NodePort service whose allocations must survive the restart.
  api POST /api/v1/namespaces/durable/services "$(body '{"apiVersion":"v1","kind":"Service","metadata":{"name":"np"},"spec":{"type":"NodePort","selector":{"app":"x"},"ports":[{"port":80}]}}')" \
    application/json "$SPAWN_URL" "$certs"
  expect_eq "create NodePort service" 201 "$CODE"
  local ip np
  ip=$(jfield 'd["spec"]["clusterIP"]') np=$(jfield 'd["spec"]["ports"][0]["nodePort"]')
  expect_match "allocated clusterIP" "^$SVC_IP_RE\$" "$ip"
  expect_match "allocated nodePort" "^$NODEPORT_RE\$" "$np"

  : >"$acks"
  "$PYTHON" "$E2E_TOOLS/creates.py" "$SPAWN_URL" "$certs" durable "$acks" 20000 2>"$E2E_WORK/creates.err" &
  local writer=$!; track_pid "$writer"
  wait_for 60 lines_at_least "$acks" 300 || fail "only $(wc -l <"$acks") creates acknowledged in 60s"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  wait "$writer"; local wrc=$?
  expect_eq "the writer ended at the kill (no error answer before)" 0 "$wrc"
  local n; n=$(wc -l <"$acks")
  log "    $n creates acknowledged before kill -9"

  spawn_server "$dir" || { fail "the server did not restart on its data dir"; return; }
  pid=$SPAWN_PID
  expect_eq "the CA is kept across restarts" "$ca_before" "$(cat "$SPAWN_CERTS/ca.crt")"
  api GET /api/v1/namespaces/durable/pods "" "" "$SPAWN_URL" "$SPAWN_CERTS"
  expect_eq "list after restart" 200 "$CODE"
  printf '%s' "$BODY" | "$PYTHON" -c '
import json, sys
have = {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in json.load(sys.stdin)["items"]}
missing = [l.split()[0] for l in open(sys.argv[1]) if l.split()[0] not in have]
changed = [l.strip() for l in open(sys.argv[1]) if l.split()[0] in have and have[l.split()[0]] != l.split()[1]]
print("missing %d %s changed %d %s" % (len(missing), missing[:5], len(changed), changed[:5]))' "$acks" >"$E2E_WORK/durable-check"
  expect_eq "acknowledged pods after kill -9" "missing 0 [] changed 0 []" "$(cat "$E2E_WORK/durable-check")"
  # Revisions continue after the restart.
  local last_rv; last_rv=$(tail -1 "$acks" | awk '{print $2}')
  api POST /api/v1/namespaces/durable/pods "$(body '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"after-restart"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}')" \
    application/json "$SPAWN_URL" "$SPAWN_CERTS"
  expect_eq "create after restart" 201 "$CODE"
  local rv; rv=$(jfield 'd["metadata"]["resourceVersion"]')
  ((rv > last_rv)) || fail "resourceVersion after restart ($rv) is not above the last acknowledged one ($last_rv)"

  # Allocations survive: the service keeps its IP and port, and nobody else gets them.
  api GET /api/v1/namespaces/durable/services/np "" "" "$SPAWN_URL" "$SPAWN_CERTS"
  expect_eq "service after restart" "$ip $np" "$(jfield 'd["spec"]["clusterIP"]+" "+str(d["spec"]["ports"][0]["nodePort"])')"
  api POST /api/v1/namespaces/durable/services "$(body "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"np2\"},\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":$np}]}}")" \
    application/json "$SPAWN_URL" "$SPAWN_CERTS"
  expect_status "taken nodePort after restart" 422 Invalid \
    "Service \"np2\" is invalid: spec.ports[0].nodePort: Invalid value: $np: provided port is already allocated"
  api POST /api/v1/namespaces/durable/services "$(body "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"ip2\"},\"spec\":{\"clusterIP\":\"$ip\",\"ports\":[{\"port\":80}]}}")" \
    application/json "$SPAWN_URL" "$SPAWN_CERTS"
  expect_status "taken clusterIP after restart" 422 Invalid \
    "Service \"ip2\" is invalid: spec.clusterIPs: Invalid value: []string{\"$ip\"}: failed to allocate IP $ip: provided IP is already allocated"
  # The same through kubectl, against the restarted server.
  KUBECONFIG=$SPAWN_KUBECONFIG run_fail kubectl create -n durable -f - <<YAML
apiVersion: v1
kind: Service
metadata:
  name: np3
spec:
  type: NodePort
  ports:
  - port: 80
    nodePort: $np
YAML
  expect_eq "kubectl: taken nodePort after restart" \
    "The Service \"np3\" is invalid: spec.ports[0].nodePort: Invalid value: $np: provided port is already allocated" "$OUT"
  # The kubernetes service is still the first IP, not duplicated.
  api GET "/api/v1/services?fieldSelector=metadata.name%3Dkubernetes" "" "" "$SPAWN_URL" "$SPAWN_CERTS"
  expect_eq "one kubernetes service, 10.96.0.1" '["10.96.0.1"]' "$(jfield '[i["spec"]["clusterIP"] for i in d["items"]]')"

  kill "$pid"; wait "$pid" 2>/dev/null
  # A clean stop keeps everything too.
  spawn_server "$dir" || { fail "the server did not restart after SIGTERM"; return; }
  pid=$SPAWN_PID
  api GET /api/v1/namespaces/durable/pods/after-restart "" "" "$SPAWN_URL" "$SPAWN_CERTS"
  expect_eq "pod kept over a clean restart" "200 $rv" "$CODE $(jfield 'd["metadata"]["resourceVersion"]')"
  kill "$pid"; wait "$pid" 2>/dev/null
  rm -rf "$dir" "$acks"
}
