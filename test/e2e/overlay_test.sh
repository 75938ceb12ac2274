# Pod <-> pod across nodes (the seeds' second model): each backend of
# `cluster up --overlay`, real packets, no NAT. Each test brings up a cluster
# of its own, so it takes the shared one down first (one LAN per host).

# overlay_cluster BACKEND NODES: a fresh cluster in $E2E_WORK/ov-BACKEND;
# sets OVDIR and OVKC.
overlay_cluster() {
  cluster_down
  OVDIR=$E2E_WORK/ov-$1-$2
  OVKC=$OVDIR/kubeconfig
  if ! "$NANOKUBE" cluster up --data-dir "$OVDIR" --nodes "$2" --overlay "$1" >"$E2E_WORK/ov-$1-$2.log" 2>&1; then
    fail "cluster up --overlay $1 --nodes $2: $(tail -20 "$E2E_WORK/ov-$1-$2.log")"
    return 1
  fi
}
overlay_cluster_down() { "$NANOKUBE" cluster down --data-dir "$OVDIR" --purge >/dev/null 2>&1 || fail "cluster down $OVDIR"; }
ok_() { timeout 60 "$KUBECTL_BIN" --kubeconfig "$OVKC" "$@"; }

# pod_on NAME NODE IMAGE ARGS...: a pod pinned to a node.
pod_on() {
  local name=$1 node=$2 image=$3; shift 3
  local cmd=""
  (($#)) && cmd=$(printf ', "%s"' "$@") && cmd="\"command\": [${cmd:2}],"
  ok_ create -f - >/dev/null <<JSON || fail "create $name"
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "$name", "labels": {"app": "$name"}},
 "spec": {"nodeName": "$node", "terminationGracePeriodSeconds": 0,
          "containers": [{"name": "c", "image": "$image", $cmd "ports": [{"containerPort": 80}]}]}}
JSON
}
ov_running() { [[ "$(ok_ get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null)" == Running ]]; }
ov_ip() { ok_ get pod "$1" -o jsonpath='{.status.podIP}'; }

# check_pod_to_pod BACKEND NODES: web servers on every node, a client on node-1;
# HTTP and ICMP to each, and the servers see the client's own pod IP.
check_pod_to_pod() {
  local backend=$1 nodes=$2 i
  overlay_cluster "$backend" "$nodes" || return
  pod_on client node-1 busybox sleep 3600
  for ((i = 1; i <= nodes; i++)); do pod_on "web$i" "node-$i" nginx; done
  for p in client $(seq -f 'web%g' 1 "$nodes"); do
    wait_for 60 ov_running "$p" || { fail "$p not Running: $(ok_ get pods -o wide 2>&1)"; overlay_cluster_down; return; }
  done
  local client_ip
  client_ip=$(ov_ip client)
  for ((i = 1; i <= nodes; i++)); do
    local ip
    ip=$(ov_ip "web$i")
    expect_match "web$i's podCIDR is node-$i's" "^10\.244\.[0-9]+\.[0-9]+$" "$ip"
    run_ok ok_ exec client -- wget -qO- "http://$ip/"
    expect_contains "$backend: client on node-1 -> web$i on node-$i over HTTP" "Welcome to nginx" "$OUT"
    run_ok ok_ exec client -- ping -c 1 -W 3 "$ip"
    expect_contains "$backend: ping web$i" "1 packets received" "$OUT"
    run_ok ok_ logs "web$i"
    expect_contains "$backend: web$i sees the client's pod IP (no NAT)" "$client_ip - - " "$OUT"
  done
  # (busybox-static 1.35's wget crashes with -T: kubectl's time limit bounds it instead.)
  # The pod MTU leaves room for the encapsulation: a packet of the full pod MTU crosses.
  local mtu
  mtu=$(ok_ exec client -- cat /sys/class/net/eth0/mtu)
  case $backend in
    vxlan) expect_eq "vxlan pod MTU" 1450 "$mtu" ;;
    udp) expect_eq "udp pod MTU" 1472 "$mtu" ;;
    host-gw) expect_eq "host-gw pod MTU" 1500 "$mtu" ;;
  esac
  if ((nodes >= 2)); then
    run_ok ok_ exec client -- ping -c 1 -W 3 -s $((mtu - 28)) "$(ov_ip web2)"
    expect_contains "$backend: a packet of the full pod MTU crosses" "1 packets received" "$OUT"
  fi
}

test_overlay_vxlan_two_nodes_and_node_leaving() {
  check_pod_to_pod vxlan 2 || return
  # node-2 leaves (its Node is deleted): node-1's route to its podCIDR goes
  # within seconds.
  local cidr2
  cidr2=$(ok_ get node node-2 -o jsonpath='{.spec.podCIDR}')
  routes() { nsenter --net="$OVDIR/netns/node-1" ip route show "$cidr2"; }
  [[ -n "$(routes)" ]] || fail "node-1 has no route to node-2's podCIDR $cidr2"
  run_ok ok_ delete node node-2
  wait_for 5 bash -c "[[ -z \"\$(nsenter --net='$OVDIR/netns/node-1' ip route show '$cidr2')\" ]]" ||
    fail "node-1 still routes to the deleted node's $cidr2: $(routes)"
  # node-2 joins again (its agent restarts and registers): node-1 routes to it
  # within seconds, and a pod started there now is reachable.
  restart_agent node-2 "$OVDIR" || { overlay_cluster_down; return; }
  wait_for 20 bash -c "ok_cidr=\$(timeout 10 '$KUBECTL_BIN' --kubeconfig '$OVKC' get node node-2 -o jsonpath='{.spec.podCIDR}'); [[ -n \$ok_cidr && -n \$(nsenter --net='$OVDIR/netns/node-1' ip route show \$ok_cidr) ]]" ||
    fail "node-1 has no route to the node that joined again"
  pod_on late node-2 nginx
  wait_for 60 ov_running late || fail "late not Running"
  run_ok ok_ exec client -- wget -qO- "http://$(ov_ip late)/"
  expect_contains "a pod on the node that joined is reachable" "Welcome to nginx" "$OUT"
  overlay_cluster_down
}

test_overlay_vxlan_three_nodes() {
  check_pod_to_pod vxlan 3 || return
  overlay_cluster_down
}

test_overlay_udp_two_nodes() {
  check_pod_to_pod udp 2 || return
  overlay_cluster_down
}

test_overlay_hostgw_two_nodes() {
  check_pod_to_pod host-gw 2 || return
  overlay_cluster_down
}

test_overlay_udp_three_nodes() {
  check_pod_to_pod udp 3 || return
  overlay_cluster_down
}

test_overlay_hostgw_three_nodes() {
  check_pod_to_pod host-gw 3 || return
  overlay_cluster_down
}
