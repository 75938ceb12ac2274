# Discovery, version, health, authentication, api-resources, explain, cluster-info.

test_discovery_version() {
  run_ok kubectl version
  expect_line "kubectl version" 'Server Version: v1\.32\.0' "$OUT"
  expect_line "kubectl version client" 'Client Version: v1\.32\.[0-9]+.*' "$OUT"
  api GET /version
  expect_eq "/version code" 200 "$CODE"
  expect_eq "/version major" 1 "$(jfield 'd["major"]')"
  expect_eq "/version minor" 32 "$(jfield 'd["minor"]')"
  expect_eq "/version gitVersion" v1.32.0 "$(jfield 'd["gitVersion"]')"
  expect_eq "/version platform" linux/amd64 "$(jfield 'd["platform"]')"
}

test_discovery_health_and_auth() {
  local p out code
  for p in /healthz /livez /readyz; do
    # No credentials: the health endpoints are public, as in Kubernetes.
    out=$(curl -sSk --max-time 10 -w ' %{http_code}' "$SERVER_URL$p")
    expect_eq "GET $p without credentials" "ok 200" "$out"
    api GET "$p"
    expect_eq "GET $p with credentials" "200 ok" "$CODE $BODY"
  done
  out=$(curl -sSk --max-time 10 "$SERVER_URL/readyz?verbose")
  expect_line "/readyz?verbose" 'readyz check passed' "$out"
  # Everything else needs a credential: 401 with a Status, as Kubernetes answers.
  for p in /api/v1/pods /api/v1/namespaces/default/pods/x /apis /api; do
    out=$(curl -sSk --max-time 10 -o "$E2E_WORK/noauth" -w '%{http_code}' "$SERVER_URL$p")
    expect_eq "GET $p without credentials" 401 "$out"
    BODY=$(cat "$E2E_WORK/noauth")
    expect_eq "401 body kind" Status "$(jfield 'd["kind"]')"
    expect_eq "401 body reason" Unauthorized "$(jfield 'd["reason"]')"
    expect_eq "401 body message" Unauthorized "$(jfield 'd["message"]')"
    expect_eq "401 body code" 401 "$(jfield 'd["code"]')"
  done
  code=$(curl -sSk --max-time 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"anonymous-ns"}}' "$SERVER_URL/api/v1/namespaces")
  expect_eq "POST without credentials" 401 "$code"
  # A client certificate from another CA is no credential either.
  local d=$E2E_WORK/foreign
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key" -out "$d/crt" -days 1 \
    -subj "/O=system:masters/CN=intruder" >/dev/null 2>&1
  code=$(curl -sSk --max-time 10 --cert "$d/crt" --key "$d/key" -o /dev/null -w '%{http_code}' \
    "$SERVER_URL/api/v1/namespaces" 2>/dev/null)
  expect_eq "GET with a certificate from a foreign CA" 401 "$code"
  run_fail kubectl get namespaces anonymous-ns
  expect_contains "the unauthenticated POST created nothing" 'namespaces "anonymous-ns" not found' "$OUT"
}

test_discovery_documents() {
  local v2='application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'
  BODY=$(curl -sS --max-time 10 --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key" \
    -H "Accept: $v2" -D "$E2E_WORK/h" "$SERVER_URL/api")
  expect_contains "/api aggregated Content-Type" 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' \
    "$(grep -i '^content-type:' "$E2E_WORK/h")"
  expect_eq "/api aggregated kind" APIGroupDiscoveryList "$(jfield 'd["kind"]')"
  expect_eq "/api aggregated pods" '["po"] ["all"] Namespaced Pod' \
    "$(jfield '" ".join(__import__("json").dumps(r.get(k)) if k in ("shortNames","categories") else r[k]["kind"] if k=="responseKind" else r[k] for r in d["items"][0]["versions"][0]["resources"] if r["resource"]=="pods" for k in ("shortNames","categories","scope","responseKind"))')"
  expect_eq "/api aggregated namespaces scope" Cluster \
    "$(jfield '[r["scope"] for r in d["items"][0]["versions"][0]["resources"] if r["resource"]=="namespaces"][0]')"
  # Legacy discovery (kubectl 1.28 and older ask for nothing else).
  api GET /api
  expect_eq "/api legacy" '["v1"]' "$(jfield 'd["versions"]')"
  expect_eq "/api legacy kind" APIVersions "$(jfield 'd["kind"]')"
  api GET /apis
  expect_eq "/apis legacy kind" APIGroupList "$(jfield 'd["kind"]')"
  local g
  for g in apps/v1 batch/v1 discovery.k8s.io/v1 coordination.k8s.io/v1; do
    expect_contains "/apis lists $g" "\"$g\"" "$(jfield '[gv["groupVersion"] for x in d["groups"] for gv in x["versions"]]')"
  done
  api GET /api/v1
  expect_eq "/api/v1 kind" APIResourceList "$(jfield 'd["kind"]')"
  local names
  names=$(jfield '" ".join(sorted(r["name"] for r in d["resources"]))')
  for g in pods pods/status pods/binding pods/log services endpoints replicationcontrollers \
    replicationcontrollers/scale nodes nodes/status namespaces events configmaps serviceaccounts; do
    expect_match "/api/v1 lists $g" "(^| )$g( |$)" "$names"
  done
  expect_eq "/api/v1 pods entry" 'true Pod ["po"]' \
    "$(jfield '[" ".join([str(r["namespaced"]).lower(), r["kind"], __import__("json").dumps(r.get("shortNames"))]) for r in d["resources"] if r["name"]=="pods"][0]')"
  api GET /apis/apps/v1
  expect_eq "/apis/apps/v1 resources" "daemonsets deployments replicasets" \
    "$(jfield '" ".join(sorted(r["name"] for r in d["resources"] if "/" not in r["name"]))')"
  api GET /openapi/v3
  expect_eq "/openapi/v3 code" 200 "$CODE"
  expect_contains "/openapi/v3 lists api/v1" '/openapi/v3/api/v1?hash=' "$(jfield 'd["paths"]["api/v1"]["serverRelativeURL"]')"
}

test_discovery_api_resources() {
  # A cold cache: kubectl walks discovery from scratch.
  local home; home=$(fresh_home)
  run_out timeout 60 env HOME="$home" "$KUBECTL_BIN" api-resources
  expect_line "api-resources header" 'NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND' "$OUT"
  expect_line "api-resources pods" 'pods +po +v1 +true +Pod' "$OUT"
  expect_line "api-resources services" 'services +svc +v1 +true +Service' "$OUT"
  expect_line "api-resources rc" 'replicationcontrollers +rc +v1 +true +ReplicationController' "$OUT"
  expect_line "api-resources endpoints" 'endpoints +ep +v1 +true +Endpoints' "$OUT"
  expect_line "api-resources nodes" 'nodes +no +v1 +false +Node' "$OUT"
  expect_line "api-resources namespaces" 'namespaces +ns +v1 +false +Namespace' "$OUT"
  expect_line "api-resources events" 'events +ev +v1 +true +Event' "$OUT"
  expect_line "api-resources configmaps" 'configmaps +cm +v1 +true +ConfigMap' "$OUT"
  expect_line "api-resources serviceaccounts" 'serviceaccounts +sa +v1 +true +ServiceAccount' "$OUT"
  expect_line "api-resources daemonsets" 'daemonsets +ds +apps/v1 +true +DaemonSet' "$OUT"
  expect_line "api-resources deployments" 'deployments +deploy +apps/v1 +true +Deployment' "$OUT"
  expect_line "api-resources replicasets" 'replicasets +rs +apps/v1 +true +ReplicaSet' "$OUT"
  expect_line "api-resources jobs" 'jobs +batch/v1 +true +Job' "$OUT"
  expect_line "api-resources endpointslices" 'endpointslices +discovery\.k8s\.io/v1 +true +EndpointSlice' "$OUT"
  expect_line "api-resources leases" 'leases +coordination\.k8s\.io/v1 +true +Lease' "$OUT"
  run_out timeout 60 env HOME="$home" "$KUBECTL_BIN" api-resources --namespaced=false -o name
  expect_line "cluster-scoped nodes" 'nodes' "$OUT"
  expect_no_line "pods are namespaced" 'pods' "$OUT"
}

test_discovery_explain() {
  run_out kubectl explain pod.spec.containers
  expect_line "explain KIND" 'KIND: +Pod' "$OUT"
  expect_line "explain VERSION" 'VERSION: +v1' "$OUT"
  expect_line "explain FIELD" 'FIELD: containers <\[\]Container>' "$OUT"
  expect_line "explain description" ' +List of containers belonging to the pod\..*' "$OUT"
  expect_line "explain name field" ' +name[[:space:]]+<string> -required-' "$OUT"
  expect_line "explain image field" ' +image[[:space:]]+<string>' "$OUT"
  run_out kubectl explain rc.spec.replicas
  expect_line "explain rc KIND" 'KIND: +ReplicationController' "$OUT"
  expect_line "explain rc FIELD" 'FIELD: replicas <integer>' "$OUT"
  run_fail kubectl explain pod.spec.nosuchfield
  expect_contains "explain unknown field" 'field "nosuchfield" does not exist' "$OUT"
}

test_discovery_cluster_info() {
  run_out kubectl cluster-info
  OUT=$(strip_ansi <<<"$OUT")
  expect_line "cluster-info" "Kubernetes control plane is running at $SERVER_URL" "$OUT"
  expect_contains "cluster-info hint" "kubectl cluster-info dump" "$OUT"
}

test_discovery_listen_port_zero() {
  # --listen 127.0.0.1:0: the kernel picks the port, the kubeconfig names it.
  local dir=$E2E_WORK/port-zero
  spawn_server "$dir" 0 || { fail "nanokube server --listen 127.0.0.1:0 did not start: $(tail -3 "$dir/server.log")"; return; }
  local pid=$SPAWN_PID
  expect_match "kubeconfig server URL" '^https://127\.0\.0\.1:[1-9][0-9]*$' "$SPAWN_URL"
  run_ok env KUBECONFIG="$SPAWN_KUBECONFIG" timeout 60 "$KUBECTL_BIN" get ns default -o name
  expect_eq "kubectl against it" "namespace/default" "$OUT"
  kill "$pid"; wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
