# The scheduler in the server: Nodes created with kubectl (Ready in their status,
# kept on create as for a registering agent) get distinct podCIDRs; the seed pod
# is bound to one of them with the Scheduled event; a pod no node fits gets
# FailedScheduling with Kubernetes' message and stays Pending.

sched_node() {
  kubectl create -f - <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels:
    kubernetes.io/hostname: $1
spec: {}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
  conditions:
  - type: Ready
    status: "True"
    reason: KubeletReady
    message: kubelet is posting ready status
YAML
}

sched_pod_node() { kubectl get pod "$1" -n "$NS" -o jsonpath='{.spec.nodeName}'; }
sched_bound() { [[ -n $(sched_pod_node "$1") ]]; }
sched_has_event() { kubectl get events -n "$NS" --field-selector "involvedObject.name=$1,reason=$2" -o name | grep -q .; }

test_scheduler_binds_pods_and_allocates_pod_cidrs() {
  local n1=e2e-sched-node-1 n2=e2e-sched-node-2
  kubectl delete node $n1 $n2 e2e-sched-node-3 --ignore-not-found >/dev/null 2>&1
  # Pods other tests left Pending on this server would be bound to the new
  # nodes first and could take their hostPorts: start from none.
  kubectl delete pods --all --all-namespaces --grace-period=0 --force >/dev/null 2>&1
  new_namespace
  run_ok sched_node $n1 && expect_eq "create node 1" "node/$n1 created" "$OUT"
  run_ok sched_node $n2 && expect_eq "create node 2" "node/$n2 created" "$OUT"

  run_out kubectl get nodes $n1 $n2 -o jsonpath='{range .items[*]}{.spec.podCIDR} {.spec.podCIDRs[0]}{"\n"}{end}'
  local c1 c2
  c1=$(sed -n 1p <<<"$OUT"); c2=$(sed -n 2p <<<"$OUT")
  expect_match "node 1 podCIDR" '^10\.244\.[0-9]{1,3}\.0/24 10\.244\.[0-9]{1,3}\.0/24$' "$c1"
  expect_match "node 2 podCIDR" '^10\.244\.[0-9]{1,3}\.0/24 10\.244\.[0-9]{1,3}\.0/24$' "$c2"
  expect_eq "podCIDR = podCIDRs[0]" "${c1% *}" "${c1#* }"
  [[ "${c1% *}" != "${c2% *}" ]] || fail "two nodes got the same podCIDR ${c1% *}"
  # A node asking for a taken subnet is refused.
  run_fail kubectl create -f - <<YAML
apiVersion: v1
kind: Node
metadata: {name: e2e-sched-node-3}
spec: {podCIDR: ${c1% *}}
YAML
  expect_contains "taken podCIDR" "is already allocated to node \"$n1\"" "$OUT"

  run_ok kubectl create -f "$SEEDS/nginxpod.yaml" -n "$NS"
  wait_for 20 sched_bound nginxpod || fail "nginxpod was not bound"
  local node
  node=$(sched_pod_node nginxpod)
  expect_match "nginxpod bound" "^($n1|$n2)\$" "$node"

  run_out kubectl get pods -n "$NS" -o wide
  expect_line "get -o wide shows the node" "nginxpod +0/2 +Pending +0 +$AGE_RE +<none> +$node +<none> +<none>" "$OUT"

  wait_for 20 sched_has_event nginxpod Scheduled || fail "no Scheduled event for nginxpod"
  run_out kubectl describe pod nginxpod -n "$NS"
  expect_line "describe Node" "Node: +$node(/.*)?" "$OUT"
  expect_line "describe Scheduled event" \
    "  Normal +Scheduled +$AGE_RE +default-scheduler +Successfully assigned $NS/nginxpod to $node" "$OUT"
  run_out kubectl get pod nginxpod -n "$NS" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}'
  expect_eq "PodScheduled" "True" "$OUT"

  # More memory than any node has: FailedScheduling, PodScheduled False, still Pending.
  local nodes
  nodes=$(kubectl get nodes -o name | wc -l)
  run_ok kubectl run big --image=nginx --restart=Never -n "$NS" --overrides='{"spec":{"containers":[{"name":"big","image":"nginx","resources":{"requests":{"memory":"64Gi"}}}]}}'
  wait_for 20 sched_has_event big FailedScheduling || fail "no FailedScheduling event for big"
  local msg="0/$nodes nodes are available: $nodes Insufficient memory. preemption: 0/$nodes nodes are available: $nodes No preemption victims found for incoming pod."
  run_out kubectl get events -n "$NS" --field-selector involvedObject.name=big,reason=FailedScheduling -o jsonpath='{.items[0].message}'
  expect_eq "FailedScheduling message" "$msg" "$OUT"
  run_out kubectl describe pod big -n "$NS"
  expect_line "describe FailedScheduling" "  Warning +FailedScheduling +$AGE_RE +default-scheduler +0/$nodes nodes are available: .*" "$OUT"
  run_out kubectl get pod big -n "$NS" -o jsonpath='{.status.phase} {.spec.nodeName} {.status.conditions[?(@.type=="PodScheduled")].reason}'
  expect_eq "big stays Pending" "Pending  Unschedulable" "$OUT"

  # Bound pods wait for an agent to stop them; there is none here.
  kubectl delete pod nginxpod big -n "$NS" --grace-period=0 --force >/dev/null 2>&1
  run_ok kubectl delete node $n1 $n2
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
}
