# A node that joins with a token, as an agent on another machine would:
# `nanokube token create`, then `nanokube agent --server --token` in a network
# namespace of the test's own, plugged into the cluster's LAN.

test_join_token_and_agent_from_another_machine() {
  cluster_up || { fail "cluster up"; return; }
  local ca=$CLUSTER_DIR/server/pki/ca.crt token
  run_out "$NANOKUBE" token create --data-dir "$CLUSTER_DIR"
  token=$OUT
  expect_match "kubeadm-style token" '^[a-z0-9]{6}\.[a-z0-9]{16}$' "$token"
  # The running server accepts it at once; a wrong one is refused.
  run_ok curl -sS --max-time 5 -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $token" \
    https://192.168.250.1:6443/api/v1/nodes
  expect_eq "token accepted" 200 "$OUT"
  run_ok curl -sS --max-time 5 -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer abcdef.0123456789abcdef" \
    https://192.168.250.1:6443/api/v1/nodes
  expect_eq "unknown token refused" 401 "$OUT"

  # "Another machine": a namespace with 192.168.250.99 on the cluster's LAN bridge.
  local ns=nk-e2e-join-$$ host=nkj$$ dir=$E2E_WORK/joined
  ip netns add "$ns" || { fail "ip netns add"; return; }
  ip link add "$host" type veth peer name eth0 netns "$ns"
  # iproute2 names a namespace by /run/netns name or by pid: move the LAN end
  # through a process that sits in the LAN namespace.
  nsenter --net="$CLUSTER_DIR/netns/lan" sleep 30 &
  local holder=$!
  wait_for 5 bash -c "[[ \$(readlink /proc/$holder/ns/net) == \$(nsenter --net='$CLUSTER_DIR/netns/lan' readlink /proc/self/ns/net) ]]"
  ip link set "$host" netns "$holder"
  kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
  nsenter --net="$CLUSTER_DIR/netns/lan" ip link set "$host" master br0 up
  ip -n "$ns" addr add 192.168.250.99/24 dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  mkdir -p "$dir"
  nsenter --net="/run/netns/$ns" setsid "$NANOKUBE" agent --server https://192.168.250.1:6443 --token "$token" \
    --certificate-authority "$ca" --node-name joined --node-ip 192.168.250.99 --data-dir "$dir" \
    --image-store "$CLUSTER_DIR/images" --cgroup-root "/nanokube-e2e-join-$$" --overlay vxlan \
    >"$dir/agent.log" 2>&1 </dev/null &
  local agent=$!
  joined_ready() { [[ "$(kc get node joined -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; }
  if wait_for 30 joined_ready; then
    kc create -f - >/dev/null <<'JSON' || fail "create pod on joined"
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "on-joined"},
 "spec": {"nodeName": "joined", "terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": "nginx"}]}}
JSON
    kc create -f - >/dev/null <<'JSON' || fail "create pod on node-1"
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "on-node1"},
 "spec": {"nodeName": "node-1", "terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}}
JSON
    wait_for 60 pod_is default on-joined "1/1 Running" || fail "pod on the joined node not Running: $(tail -5 "$dir/agent.log")"
    wait_for 60 pod_is default on-node1 "1/1 Running" || fail "pod on node-1 not Running"
    run_ok kc exec on-node1 -- wget -qO- "http://$(pod_field default on-joined '{.status.podIP}')/"
    expect_contains "node-1's pod reaches the joined node's pod over the overlay" "Welcome to nginx" "$OUT"
    run_ok kc delete pod on-joined on-node1 --grace-period=0
  else
    fail "the joined node is not Ready: $(tail -5 "$dir/agent.log")"
  fi
  kill "$agent" 2>/dev/null; wait "$agent" 2>/dev/null
  kc delete node joined >/dev/null 2>&1
  # What `cluster down` does for its own nodes: the pods are gone, the pinned
  # namespaces' directory is unmounted.
  umount "$dir/netns" 2>/dev/null
  ip netns del "$ns"
  for d in /sys/fs/cgroup/*/nanokube-e2e-join-$$; do [[ -d $d ]] && rmdir "$d" 2>/dev/null; done
  grep -q "$dir" /proc/mounts && fail "mounts left under $dir"
}
