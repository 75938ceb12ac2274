# The local cluster: `nanokube cluster up|down|status`, `nanokube ps`, and what
# they leave on the host (one link with 192.168.250.1/24, nothing else) and
# after down (nothing at all).

# netns_of DIR NODE CMD...: runs CMD in the node's network namespace.
netns_of() { local dir=$1 node=$2; shift 2; nsenter --net="$dir/netns/$node" "$@"; }

# cmdline_pids TEXT: pids of processes whose command line contains TEXT (pure
# bash: a grep would find itself).
cmdline_pids() {
  local p args
  for p in /proc/[0-9]*; do
    mapfile -d '' args <"$p/cmdline" 2>/dev/null || continue
    [[ "${args[*]}" == *"$1"* ]] && echo "${p#/proc/}"
  done
}

# pid_gone PID: no such process, or a zombie.
pid_gone() { [[ ! -e /proc/$1/stat ]] || [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]]; }

# expect_cluster_gone WHAT DIR ID PIDS...: nothing of the cluster in DIR (id ID) is left.
expect_cluster_gone() {
  local what=$1 dir=$2 id=$3 pid; shift 3
  [[ -e "$dir/netns" ]] && fail "$what: $dir/netns still exists: $(ls -la "$dir/netns")"
  ip link show nk-lan0 >/dev/null 2>&1 && fail "$what: the host still has nk-lan0"
  run_ok ip -4 addr show
  expect_not_contains "$what: host addresses" "192.168.250.1/" "$OUT"
  local mounts
  mounts=$(awk -v d="$dir" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo)
  expect_eq "$what: mounts under $dir" "" "$mounts"
  for pid in "$@"; do
    # An exited process may stay a zombie for a moment until init reaps it.
    wait_for 5 pid_gone "$pid" || fail "$what: process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline")) still runs"
  done
  expect_eq "$what: processes naming $dir" "" "$(cmdline_pids "$dir")"
  expect_eq "$what: cgroups" "" "$(ls -d /sys/fs/cgroup/*/nanokube-"$id" 2>/dev/null)"
}

# ps_pids DIR: the PID column of `nanokube ps`.
ps_pids() { "$NANOKUBE" ps --data-dir "$1" | awk 'NR > 1 && $7 != "-" {print $7}'; }

test_cluster_shared_up_status_refusal() {
  cluster_up || { fail "cluster up: $(tail -20 "$E2E_WORK/cluster-up.log")"; return; }
  # A second cluster, for the same data dir or another, refuses and names the running one.
  run_fail "$NANOKUBE" cluster up --data-dir "$CLUSTER_DIR"
  expect_contains "second up, same dir" "a nanokube cluster is already running (data dir $CLUSTER_DIR); stop it with: nanokube cluster down --data-dir $CLUSTER_DIR" "$OUT"
  run_fail "$NANOKUBE" cluster up --data-dir "$E2E_WORK/cluster-other" --no-images
  expect_contains "second up, other dir" "already running (data dir $CLUSTER_DIR)" "$OUT"
  [[ -e "$E2E_WORK/cluster-other/netns" ]] && fail "the refused up made namespaces"

  run_ok "$NANOKUBE" cluster status --data-dir "$CLUSTER_DIR"
  expect_line "status: server" "server: +https://192\.168\.250\.1:6443 \(running, pid [0-9]+\)" "$OUT"
  expect_line "status: node-1" "node-1 +192\.168\.250\.11 +running \(pid [0-9]+\) +present +True" "$OUT"

  run_out kc get nodes
  expect_line "kubectl get nodes" "node-1 +Ready +<none> +$AGE_RE +v1\.[0-9.]+" "$OUT"
  run_out kc get node node-1 -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}'
  expect_eq "node-1 InternalIP" "192.168.250.11" "$OUT"

  # The host: one link with 192.168.250.1/24 and its connected route; no route
  # to the pod or service CIDRs.
  run_ok ip -4 -o addr show dev nk-lan0
  expect_match "nk-lan0 address" "inet 192\.168\.250\.1/24 " "$OUT"
  run_ok ip -4 route show
  expect_line "host route to the LAN" "192\.168\.250\.0/24 dev nk-lan0 proto kernel scope link src 192\.168\.250\.1" "$OUT"
  expect_not_contains "host routes" "10.244." "$OUT"
  expect_not_contains "host routes" "10.96." "$OUT"
  # The node: eth0 on the LAN, forwarding on, no default route (the host does not forward).
  run_ok netns_of "$CLUSTER_DIR" node-1 ip -4 -o addr show dev eth0
  expect_match "node-1 eth0" "inet 192\.168\.250\.11/24 " "$OUT"
  run_ok netns_of "$CLUSTER_DIR" node-1 ip -4 route show default
  expect_eq "node-1 default route" "" "$OUT"
  run_ok netns_of "$CLUSTER_DIR" node-1 cat /proc/sys/net/ipv4/ip_forward
  expect_eq "node-1 ip_forward" "1" "$OUT"

  run_out "$NANOKUBE" ps --data-dir "$CLUSTER_DIR"
  expect_line "ps header" "CONTAINER ID +NODE +POD +CONTAINER +TYPE +STATUS +PID +NETNS" "$(head -1 <<<"$OUT")"
  run_fail "$NANOKUBE" ps --data-dir "$CLUSTER_DIR" --node node-9
  expect_contains "ps --node unknown" "no node node-9" "$OUT"
}

# Two nodes of its own: the LAN between them, a real pod, then down leaves nothing.
test_cluster_up_down_two_nodes() {
  cluster_down  # the LAN address is one per host; the next cluster_up restarts the shared cluster
  local dir=$E2E_WORK/updown
  run_ok "$NANOKUBE" cluster up --data-dir "$dir" --nodes 2 --timeout 90 || return
  local id kcfg=$dir/kubeconfig
  id=$(jfield 'd["id"]' "$(cat "$dir/cluster.json")")
  run_out kubectl --kubeconfig "$kcfg" get nodes --no-headers
  expect_eq "Ready nodes" 2 "$(count_lines "node-[12] +Ready +.*" "$OUT")"

  # Real packets across the LAN bridge: node-1 and the host reach a listener in node-2.
  mkdir -p "$E2E_WORK/www" && echo "hello from node-2" >"$E2E_WORK/www/index.html"
  # (nsenter, not the netns_of function: in the background a function runs in a
  # subshell, and $! would be the subshell's pid, not the server's.)
  nsenter --net="$dir/netns/node-2" "$PYTHON" -m http.server --bind 192.168.250.12 --directory "$E2E_WORK/www" 8099 \
    >/dev/null 2>&1 &
  local web=$!
  track_pid "$web"
  wait_for 10 netns_of "$dir" node-1 curl -sf --max-time 1 http://192.168.250.12:8099/ || fail "node-1 -> node-2:8099 unreachable"
  run_ok curl -sS --max-time 5 http://192.168.250.12:8099/
  expect_eq "host -> node-2:8099" "hello from node-2" "$OUT"
  kill "$web"; wait "$web" 2>/dev/null

  # A pod with containers, mounts and cgroups for down to clean up.
  run_ok kubectl --kubeconfig "$kcfg" create -f "$SEEDS/nginxpod.yaml"
  wait_for 60 bash -c "kubectl --kubeconfig '$kcfg' get pod nginxpod --no-headers | grep -q '2/2 *Running'" ||
    fail "nginxpod not Running: $(kubectl --kubeconfig "$kcfg" get pod nginxpod 2>&1)"
  run_out "$NANOKUBE" ps --data-dir "$dir"
  expect_eq "ps rows of nginxpod" 3 "$(count_lines "nk-[0-9a-f]+ +node-[12] +default/nginxpod +.*running.*" "$OUT")"
  expect_eq "one netns for the pod" 1 "$(grep nginxpod <<<"$OUT" | grep -oE 'net:\[[0-9]+\]' | sort -u | wc -l)"
  local pids
  pids="$(cat "$dir/server.pid" "$dir"/nodes/node-*/agent.pid) $(ps_pids "$dir")"

  run_ok "$NANOKUBE" cluster down --data-dir "$dir"
  # shellcheck disable=SC2086
  expect_cluster_gone "after down" "$dir" "$id" $pids
  [[ -f "$dir/server/store.db" ]] || fail "down without --purge removed the store"
  run_ok "$NANOKUBE" cluster down --data-dir "$dir"  # idempotent
  run_ok "$NANOKUBE" cluster down --data-dir "$dir" --purge
  [[ -e "$dir" ]] && fail "--purge left $dir"
}

# A crashed cluster (every process killed -9, pods left running): down cleans it
# up by the files the cluster left, and up works again after it.
test_cluster_down_after_crash() {
  cluster_down
  local dir=$E2E_WORK/crash
  run_ok "$NANOKUBE" cluster up --data-dir "$dir" --timeout 90 || return
  local id kcfg=$dir/kubeconfig
  id=$(jfield 'd["id"]' "$(cat "$dir/cluster.json")")
  run_ok kubectl --kubeconfig "$kcfg" create -f "$SEEDS/nginxpod.yaml"
  wait_for 60 bash -c "kubectl --kubeconfig '$kcfg' get pod nginxpod --no-headers | grep -q '2/2 *Running'" ||
    fail "nginxpod not Running: $(kubectl --kubeconfig "$kcfg" get pod nginxpod 2>&1)"
  local pids
  pids="$(cat "$dir/server.pid" "$dir"/nodes/node-*/agent.pid) $(ps_pids "$dir")"
  kill -9 "$(cat "$dir/server.pid")" "$(cat "$dir/nodes/node-1/agent.pid")"
  sleep 0.2
  run_fail "$NANOKUBE" cluster status --data-dir "$dir"
  expect_line "status after crash" "node-1 +192\.168\.250\.11 +not running +present +Unknown" "$OUT"
  # The host link is still there and names its cluster.
  run_fail "$NANOKUBE" cluster up --data-dir "$E2E_WORK/crash-other" --no-images
  expect_contains "up while the crashed LAN is there" "stop it with: nanokube cluster down --data-dir $dir" "$OUT"

  run_ok "$NANOKUBE" cluster down --data-dir "$dir"
  # shellcheck disable=SC2086
  expect_cluster_gone "down after crash" "$dir" "$id" $pids
  run_ok "$NANOKUBE" cluster down --data-dir "$dir" --purge
}
