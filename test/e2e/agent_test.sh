# The node agent, through a real local cluster (`nanokube cluster up`): the
# seeds' first model, container <-> container in one pod, with real runc
# containers, real packets, and the real kubectl for logs and exec.

NODE1_IP=192.168.250.11

# agent_ns: a fresh namespace of the cluster in $ANS.
agent_ns() {
  ANS=ag-$RANDOM$RANDOM
  # (`kubectl create namespace` sends protobuf, which the server does not decode.)
  kc create -f - >/dev/null <<<"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ANS\"}}"
}

# pod_row NS NAME: the pod's row of `kubectl get pods` without AGE.
pod_row() { kc get pod "$2" -n "$1" --no-headers 2>/dev/null | awk '{print $2, $3}'; }
pod_is() { [[ "$(pod_row "$1" "$2")" == "$3" ]]; }
pod_row_matches() { [[ "$(pod_row "$1" "$2")" =~ $3 ]]; }
pod_field() { kc get pod "$2" -n "$1" -o jsonpath="$3" 2>/dev/null; }

# The pod's phase is Running and its containers have started (status reported).
wait_running() { wait_for "${4:-60}" pod_is "$1" "$2" "$3 Running"; }

test_agent_nginxpod_localhost_hostport_ps() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  run_ok kc create -f "$SEEDS/nginxpod.yaml" -n "$ANS"
  wait_running "$ANS" nginxpod 2/2 || { fail "nginxpod not 2/2 Running: $(kc get pods -n "$ANS" 2>&1) $(kc describe pod nginxpod -n "$ANS" | tail -15)"; return; }
  run_out kc get pod nginxpod -n "$ANS" -o wide
  expect_line "get -o wide" "nginxpod +2/2 +Running +0 +$AGE_RE +10\.244\.[0-9]+\.[0-9]+ +node-1 +<none> +<none>" "$OUT"
  local ip
  ip=$(pod_field "$ANS" nginxpod '{.status.podIP}')
  expect_eq "hostIP" "$NODE1_IP" "$(pod_field "$ANS" nginxpod '{.status.hostIP}')"

  # Both containers answer on the pod's localhost, seen from inside the pod.
  run_ok kc exec nginxpod -n "$ANS" -c nginx80 -- wget -qO- http://localhost:80/
  expect_contains "exec nginx80 -> localhost:80" "Welcome to nginx" "$OUT"
  run_ok kc exec nginxpod -n "$ANS" -c nginx80 -- wget -qO- http://localhost:8800/
  expect_contains "exec nginx80 -> localhost:8800" "Welcome to nginx" "$OUT"

  # hostPort: nodeIP:80 and :8800 from the host.
  run_ok curl -sS --max-time 5 "http://$NODE1_IP:80/"
  expect_contains "curl nodeIP:80" "Welcome to nginx" "$OUT"
  run_ok curl -sS --max-time 5 "http://$NODE1_IP:8800/"
  expect_contains "curl nodeIP:8800" "Welcome to nginx" "$OUT"

  # The access log of nginx80 holds the requests (logs go to stdout as in the seed's image).
  run_ok kc logs nginxpod -n "$ANS" -c nginx80
  expect_contains "logs nginx80" '"GET / HTTP/1.1" 200' "$OUT"

  # nanokube ps: the pause container and both app containers share one network namespace.
  run_out "$NANOKUBE" ps --data-dir "$CLUSTER_DIR"
  local rows netns
  rows=$(grep "$ANS/nginxpod" <<<"$OUT")
  expect_eq "ps rows of nginxpod (pause + 2)" 3 "$(grep -c . <<<"$rows")"
  netns=$(grep -oE 'net:\[[0-9]+\]' <<<"$rows" | sort -u)
  expect_eq "one network namespace for the whole pod" 1 "$(grep -c . <<<"$netns")"
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
  kc delete pod nginxpod -n "$ANS" --grace-period=1 >/dev/null 2>&1
}

test_agent_multicontainer01_crashloop() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  run_ok kc create -f "$SEEDS/onepod-multicontiner01.yaml" -n "$ANS"
  # One nginx keeps port 80, the other cannot bind it and exits 1, again and again.
  wait_for 60 pod_restarts_at_least "$ANS" onepod-multicontiner01 2 ||
    fail "restart count does not grow: $(kc get pods -n "$ANS" 2>&1)"
  # nginx retries bind() for a few seconds before it gives up, so the second
  # container shows Running for a moment between its runs, as in Kubernetes.
  wait_for 30 pod_row_matches "$ANS" onepod-multicontiner01 '^1/2 (Error|CrashLoopBackOff)$'
  run_out kc get pod onepod-multicontiner01 -n "$ANS"
  expect_line "1/2 Error or CrashLoopBackOff" "onepod-multicontiner01 +1/2 +(Error|CrashLoopBackOff) +[2-9] \(.* ago\) +$AGE_RE" "$OUT"
  run_out kc describe pod onepod-multicontiner01 -n "$ANS"
  expect_contains "describe: last state" "Exit Code:    1" "$OUT"
  expect_contains "describe: BackOff event" "Back-off restarting failed container nginx2" "$OUT"
  run_ok kc logs onepod-multicontiner01 -n "$ANS" -c nginx2 --previous
  expect_contains "logs --previous: the bind error" "Address already in use" "$OUT"
  kc delete pod onepod-multicontiner01 -n "$ANS" --grace-period=1 >/dev/null 2>&1
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}

pod_restarts_at_least() {
  local n
  n=$(kc get pod "$2" -n "$1" -o jsonpath='{range .status.containerStatuses[*]}{.restartCount}{"\n"}{end}' 2>/dev/null | sort -n | tail -1)
  [[ -n "$n" ]] && ((n >= $3))
}

test_agent_multicontainer02_exec_curl_404() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  run_ok kc create -f "$SEEDS/onepod-multicontiner02.yaml" -n "$ANS"
  wait_running "$ANS" onepod-multicontiner02 2/2 || { fail "not 2/2 Running: $(kc get pods -n "$ANS" 2>&1)"; return; }
  run_ok kc exec onepod-multicontiner02 -n "$ANS" -c curl -- curl -s 127.0.0.1/ww
  expect_contains "curl 127.0.0.1/ww from the curl container: nginx's 404" "404 Not Found" "$OUT"
  expect_contains "nginx's own page" "nginx" "$OUT"
  # An exit code comes back as kubectl shows it.
  run_fail kc exec onepod-multicontiner02 -n "$ANS" -c curl -- sh -c 'exit 3'
  expect_contains "exit code" "command terminated with exit code 3" "$OUT"
  kc delete pod onepod-multicontiner02 -n "$ANS" --grace-period=1 >/dev/null 2>&1
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}

test_agent_run_delete_leaves_nothing() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  local node=$CLUSTER_DIR/nodes/node-1
  run_ok kc run sleeper -n "$ANS" --image=busybox --restart=Never -- sleep 3600
  wait_running "$ANS" sleeper 1/1 || { fail "sleeper not Running: $(kc get pods -n "$ANS" 2>&1)"; return; }
  local uid ip
  uid=$(pod_field "$ANS" sleeper '{.metadata.uid}')
  ip=$(pod_field "$ANS" sleeper '{.status.podIP}')
  [[ -e $node/netns/$uid ]] || fail "the pod's network namespace is not at $node/netns/$uid"
  grep -q "$uid" "$node/ipam.json" || fail "ipam.json does not hold the pod"
  # sleep ignores SIGTERM as PID 1: the grace period ends it with SIGKILL.
  run_ok kc delete pod sleeper -n "$ANS" --grace-period=2
  expect_eq "delete" 'pod "sleeper" deleted' "$OUT"
  run_fail kc get pod sleeper -n "$ANS"
  run_out "$NANOKUBE" ps --data-dir "$CLUSTER_DIR"
  expect_not_contains "ps: no container of the pod" "$ANS/sleeper" "$OUT"
  [[ -e $node/netns/$uid ]] && fail "network namespace left: $node/netns/$uid"
  grep -q "$uid" "$node/ipam.json" && fail "IP left allocated in ipam.json"
  local veths
  veths=$(nsenter --net="$CLUSTER_DIR/netns/node-1" ip -o link show type veth 2>&1)
  expect_not_contains "no veth of the pod" "$uid" "$veths"
  [[ -n $(ls -d "$node/logs/${ANS}_sleeper_"* 2>/dev/null) ]] && fail "log directory left"
  [[ -n $(grep -l "$uid" /proc/*/cgroup 2>/dev/null | head -1) ]] && fail "a process is left in the pod's cgroup"
  find /sys/fs/cgroup/*/ -maxdepth 4 -type d -name "pod-$uid" 2>/dev/null | grep -q . && fail "cgroup left"
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}

test_agent_bad_input() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  # An image the node does not have.
  run_ok kc run noimage -n "$ANS" --image=nope/nothing:1 --restart=Never
  wait_for 30 pod_waiting_reason "$ANS" noimage '(ErrImagePull|ImagePullBackOff)' ||
    fail "no ErrImagePull: $(kc get pod noimage -n "$ANS" -o yaml 2>&1 | tail -20)"
  expect_contains "image name in the message" "nope/nothing:1" "$(pod_field "$ANS" noimage '{.status.containerStatuses[0].state.waiting.message}')"
  # A command that does not exist.
  run_ok kc run nocmd -n "$ANS" --image=busybox -- /no/such/binary
  wait_for 30 pod_restarts_at_least "$ANS" nocmd 1 || fail "nocmd does not restart: $(kc get pod nocmd -n "$ANS" 2>&1)"
  run_out kc describe pod nocmd -n "$ANS"
  expect_contains "StartError" "StartError" "$OUT"
  expect_contains "runc's message" "/no/such/binary" "$OUT"
  # A container that exits at once under restartPolicy Never: Completed / Failed.
  run_ok kc run once -n "$ANS" --image=busybox --restart=Never -- sh -c 'echo bye; exit 0'
  wait_for 30 pod_is "$ANS" once "0/1 Completed" || fail "once not Completed: $(kc get pod once -n "$ANS" 2>&1)"
  run_ok kc logs once -n "$ANS"
  expect_eq "logs of a completed pod" "bye" "$OUT"
  run_ok kc run fails -n "$ANS" --image=busybox --restart=Never -- sh -c 'exit 2'
  wait_for 30 pod_is "$ANS" fails "0/1 Error" || fail "fails not Error: $(kc get pod fails -n "$ANS" 2>&1)"
  expect_eq "phase Failed" Failed "$(pod_field "$ANS" fails '{.status.phase}')"
  # More memory than the node has: the scheduler says so and nothing runs.
  run_ok kc run huge -n "$ANS" --image=busybox --overrides='{"spec":{"containers":[{"name":"huge","image":"busybox","resources":{"requests":{"memory":"100Ti"}}}]}}'
  wait_for 20 bash -c "kubectl --kubeconfig '$CLUSTER_KUBECONFIG' get events -n '$ANS' | grep -q 'Insufficient memory'" ||
    fail "no FailedScheduling Insufficient memory: $(kc get events -n "$ANS" 2>&1 | tail -5)"
  # The agent still serves other pods.
  run_ok kc run still -n "$ANS" --image=busybox -- sleep 3600
  wait_running "$ANS" still 1/1 || fail "the agent stopped serving pods: $(kc get pods -n "$ANS" 2>&1)"
  kc delete pods --all -n "$ANS" --grace-period=1 >/dev/null 2>&1
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}

pod_waiting_reason() {
  [[ "$(pod_field "$1" "$2" '{.status.containerStatuses[0].state.waiting.reason}')" =~ ^$3$ ]]
}

test_agent_probes() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  kc create -n "$ANS" -f - >/dev/null <<'YAML' || fail "create probed"
apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: nginx
    readinessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 1
  - name: notready
    image: busybox
    command: [sleep, "3600"]
    readinessProbe:
      tcpSocket: {port: 9999}
      periodSeconds: 1
  - name: live
    image: busybox
    command: [sh, -c, "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 3600"]
    livenessProbe:
      exec: {command: [cat, /tmp/ok]}
      periodSeconds: 1
      failureThreshold: 2
YAML
  ready_of() { kc get pod probed -n "$ANS" -o jsonpath="{.status.containerStatuses[?(@.name==\"$1\")].ready}"; }
  wait_for 30 bash -c "[[ \$(kubectl --kubeconfig '$CLUSTER_KUBECONFIG' get pod probed -n '$ANS' -o jsonpath='{.status.containerStatuses[?(@.name==\"web\")].ready}') == true ]]" ||
    fail "web never ready: $(kc describe pod probed -n "$ANS" | tail -20)"
  expect_eq "notready stays unready" false "$(ready_of notready)"
  wait_for 40 bash -c "[[ \$(kubectl --kubeconfig '$CLUSTER_KUBECONFIG' get pod probed -n '$ANS' -o jsonpath='{.status.containerStatuses[?(@.name==\"live\")].restartCount}') -ge 1 ]]" ||
    fail "live never restarted: $(kc describe pod probed -n "$ANS" | tail -20)"
  run_out kc get pod probed -n "$ANS"
  expect_line "not Ready as a whole" "probed +[12]/3 +Running +[1-9].*" "$OUT"
  run_out kc describe pod probed -n "$ANS"
  expect_match "readiness failure event" "Readiness probe failed: dial tcp 10\.244\.[0-9.]+:9999: connect: connection refused" "$OUT"
  expect_contains "liveness failure event" "Liveness probe failed" "$OUT"
  expect_contains "killing event" "Container live failed liveness probe, will be restarted" "$OUT"
  kc delete pod probed -n "$ANS" --grace-period=1 >/dev/null 2>&1
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}

test_agent_hostport_conflict() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  local first=$ANS
  run_ok kc create -f "$SEEDS/nginxpod.yaml" -n "$first"
  wait_running "$first" nginxpod 2/2 || fail "first nginxpod not Running"
  agent_ns
  run_ok kc create -f "$SEEDS/nginxpod.yaml" -n "$ANS"
  wait_for 20 bash -c "kubectl --kubeconfig '$CLUSTER_KUBECONFIG' get events -n '$ANS' | grep -q 'free ports'" ||
    fail "no FailedScheduling for the taken hostPorts: $(kc get events -n "$ANS" 2>&1 | tail -3)"
  run_out kc get pod nginxpod -n "$ANS"
  expect_line "second stays Pending" "nginxpod +0/2 +Pending +0 +$AGE_RE" "$OUT"
  # Once the first is gone the second gets the ports.
  run_ok kc delete pod nginxpod -n "$first" --grace-period=1
  wait_running "$ANS" nginxpod 2/2 || fail "second nginxpod not Running after the first left: $(kc get pod nginxpod -n "$ANS" 2>&1)"
  run_ok curl -sS --max-time 5 "http://$NODE1_IP:8800/"
  expect_contains "hostPort now reaches the second pod" "Welcome to nginx" "$OUT"
  kc delete pod nginxpod -n "$ANS" --grace-period=1 >/dev/null 2>&1
  kc delete namespace "$first" "$ANS" --wait=false >/dev/null 2>&1
}

# restart_agent NODE [CLUSTER_DIR]: stops the node's agent and starts it again with the same
# command line in the node's network namespace (as `cluster up` started it).
restart_agent() {
  local node=$1 cluster=${2:-$CLUSTER_DIR}
  local dir=$cluster/nodes/$1 pid
  pid=$(cat "$dir/agent.pid")
  local -a argv
  mapfile -d '' argv <"/proc/$pid/cmdline"
  kill "$pid"
  wait_for 15 bash -c "! kill -0 $pid 2>/dev/null" || { fail "agent $pid does not stop"; return 1; }
  nsenter --net="$cluster/netns/$node" setsid "${argv[@]}" >>"$dir/agent.log" 2>&1 </dev/null &
  echo $! >"$dir/agent.pid"
}

test_agent_restart_keeps_pods() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  run_ok kc run keeper -n "$ANS" --image=busybox -- sleep 3600
  wait_running "$ANS" keeper 1/1 || { fail "keeper not Running"; return; }
  local id before
  id=$(pod_field "$ANS" keeper '{.status.containerStatuses[0].containerID}')
  before=$("$NANOKUBE" ps --data-dir "$CLUSTER_DIR" | grep "$ANS/keeper")
  restart_agent node-1 || return
  # The new agent has registered (its Lease renewed) and synced the pod.
  sleep 2
  wait_running "$ANS" keeper 1/1 || fail "keeper not Running after the restart"
  expect_eq "same container" "$id" "$(pod_field "$ANS" keeper '{.status.containerStatuses[0].containerID}')"
  expect_eq "no restart" 0 "$(pod_field "$ANS" keeper '{.status.containerStatuses[0].restartCount}')"
  expect_eq "same processes" "$before" "$("$NANOKUBE" ps --data-dir "$CLUSTER_DIR" | grep "$ANS/keeper")"
  # The restarted agent still runs new pods and deletes old ones.
  run_ok kc run newcomer -n "$ANS" --image=busybox -- sleep 3600
  wait_running "$ANS" newcomer 1/1 || fail "the restarted agent does not run new pods"
  run_ok kc delete pod keeper newcomer -n "$ANS" --grace-period=1
  run_out "$NANOKUBE" ps --data-dir "$CLUSTER_DIR"
  expect_not_contains "ps: nothing left of the pods" "$ANS/" "$OUT"
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}

test_agent_exec_tty() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  run_ok kc run tty -n "$ANS" --image=busybox -- sleep 3600
  wait_running "$ANS" tty 1/1 || { fail "tty not Running"; return; }
  # kubectl -ti wants a terminal of its own: script(1) gives it one.
  local out
  out=$(printf 'tty; exit 7\n' | timeout 60 script -qec \
    "'$KUBECTL_BIN' --kubeconfig '$CLUSTER_KUBECONFIG' exec -ti tty -n '$ANS' -- sh" /dev/null 2>&1)
  expect_match "a terminal in the container" "/dev/pts/[0-9]+" "$out"
  expect_contains "the exit code comes back" "command terminated with exit code 7" "$out"
  # stdin without a terminal: -i alone.
  run_ok bash -c "printf 'hello from stdin\n' | timeout 60 '$KUBECTL_BIN' --kubeconfig '$CLUSTER_KUBECONFIG' exec -i tty -n '$ANS' -- cat"
  expect_eq "exec -i pipes stdin" "hello from stdin" "$OUT"
  kc delete pod tty -n "$ANS" --grace-period=0 >/dev/null 2>&1
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}

test_agent_stopped_node_turns_notready() {
  cluster_up || { fail "cluster up"; return; }
  agent_ns
  local dir=$CLUSTER_DIR/nodes/node-1 pid
  pid=$(cat "$dir/agent.pid")
  local -a argv
  mapfile -d '' argv <"/proc/$pid/cmdline"
  kill "$pid"
  wait_for 15 bash -c "! kill -0 $pid 2>/dev/null" || { fail "agent $pid does not stop"; return; }
  # No Lease renewal for 40 s: NotReady, with the unreachable taints.
  node_status() { kc get node node-1 --no-headers 2>/dev/null | awk '{print $2}'; }
  wait_for 60 bash -c "[[ \$(timeout 10 '$KUBECTL_BIN' --kubeconfig '$CLUSTER_KUBECONFIG' get node node-1 --no-headers | awk '{print \$2}') == NotReady ]]" ||
    fail "node-1 not NotReady after its agent stopped: $(kc get nodes 2>&1)"
  run_out kc describe node node-1
  expect_contains "unreachable taint" "node.kubernetes.io/unreachable:NoSchedule" "$OUT"
  expect_contains "condition message" "Kubelet stopped posting node status." "$OUT"
  # A new pod is not placed on it.
  run_ok kc run waiting -n "$ANS" --image=busybox -- sleep 3600
  wait_for 20 bash -c "timeout 10 '$KUBECTL_BIN' --kubeconfig '$CLUSTER_KUBECONFIG' get events -n '$ANS' | grep -q 'untolerated taint'" ||
    fail "no FailedScheduling for the taint: $(kc get events -n "$ANS" 2>&1 | tail -3)"
  # The agent comes back: Ready, taints gone, the pod runs.
  nsenter --net="$CLUSTER_DIR/netns/node-1" setsid "${argv[@]}" >>"$dir/agent.log" 2>&1 </dev/null &
  echo $! >"$dir/agent.pid"
  wait_running "$ANS" waiting 1/1 || fail "the pod did not run once the node was back: $(kc get pods -n "$ANS" 2>&1)"
  expect_eq "Ready again" Ready "$(node_status)"
  expect_eq "taints gone" "" "$(kc get node node-1 -o jsonpath='{.spec.taints}')"
  kc delete pod waiting -n "$ANS" --grace-period=0 >/dev/null 2>&1
  kc delete namespace "$ANS" --wait=false >/dev/null 2>&1
}
