# Helpers for the e2e suite: a real nanokube server, the real kubectl.
# Sourced by test/e2e/run; every test file is a list of functions named test_*.

E2E_FAILS=0
# The kubectl on PATH (on these machines the gcloud dispatcher that picks a
# kubectl by the server's /version), and the versioned binaries beside it.
KUBECTL_BIN=${KUBECTL_BIN:-$(command -v kubectl)}
KUBECTL_DIR=${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}
# The system Python (standard library only); a version manager's shim costs a second per call.
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
# Kubernetes' patterns for what a user sees.
AGE_RE='([0-9]+[smhd])+'                                      # duration.HumanDuration
SVC_IP_RE='10\.(9[6-9]|10[0-9]|11[01])\.[0-9]{1,3}\.[0-9]{1,3}' # 10.96.0.0/12
NODEPORT_RE='(3[0-1][0-9]{3}|32[0-6][0-9]{2}|327[0-5][0-9]|3276[0-7])' # 30000-32767

log() { printf '%s\n' "$*" >&2; }

# fail MESSAGE: records a failure of the current test.
fail() {
  log "    FAIL: $*"
  E2E_TEST_FAILED=1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" != "$3" ]]; then fail "$1: expected [$2], got [$3]"; fi
}

# expect_match WHAT REGEX TEXT
expect_match() {
  if ! [[ "$3" =~ $2 ]]; then fail "$1: [$3] does not match /$2/"; fi
}

# expect_contains WHAT NEEDLE TEXT
expect_contains() {
  if [[ "$3" != *"$2"* ]]; then fail "$1: [$3] does not contain [$2]"; fi
}

# expect_not_contains WHAT NEEDLE TEXT
expect_not_contains() {
  if [[ "$3" == *"$2"* ]]; then fail "$1: [$3] contains [$2]"; fi
}

# expect_line WHAT ERE TEXT: some line of TEXT matches the extended regex as a
# whole (trailing blanks ignored). For table rows: 'nginxpod +0/2 +Pending +0 +[0-9]+s'.
expect_line() {
  # (grep reads all its input: grep -q would stop early and, with pipefail,
  # make the pipeline fail on sed's SIGPIPE.)
  if ! sed 's/[[:space:]]*$//' <<<"$3" | grep -Ex -- "$2" >/dev/null; then
    fail "$1: no line matches /^$2\$/ in:"$'\n'"$3"
  fi
}

# expect_no_line WHAT ERE TEXT: no line of TEXT matches the regex as a whole.
expect_no_line() {
  if sed 's/[[:space:]]*$//' <<<"$3" | grep -Ex -- "$2" >/dev/null; then
    fail "$1: a line matches /^$2\$/ in:"$'\n'"$3"
  fi
}

# count_lines ERE TEXT: how many lines of TEXT match the regex as a whole.
count_lines() { sed 's/[[:space:]]*$//' <<<"$2" | grep -Ecx -- "$1"; }

# strip_ansi: removes terminal colour escapes (cluster-info prints them).
strip_ansi() { sed 's/\x1b\[[0-9;]*m//g'; }

# kubectl with a time limit, so that a hung server fails a test instead of the suite.
kubectl() { timeout 60 "$KUBECTL_BIN" "$@"; }

# kubectl_v VERSION ARGS...: runs the versioned kubectl binary directly (1.30, 1.33, ...).
kubectl_v() { local v=$1; shift; timeout 60 "$KUBECTL_DIR/kubectl.$v" "$@"; }

# run_ok CMD...: runs a command that must succeed; its stdout+stderr in $OUT.
run_ok() {
  OUT=$("$@" 2>&1) || { fail "command failed ($?): $* :: $OUT"; return 1; }
}

# run_fail CMD...: runs a command that must fail; its stdout+stderr in $OUT.
run_fail() {
  if OUT=$("$@" 2>&1); then fail "command succeeded but should fail: $* :: $OUT"; return 1; fi
  return 0
}

# run_out CMD...: runs a command that must succeed; only its stdout in $OUT
# (stderr in $ERR), for output that is parsed.
run_out() {
  local errf=$E2E_WORK/stderr.$$
  OUT=$("$@" 2>"$errf") || { ERR=$(cat "$errf"); fail "command failed: $* :: $OUT $ERR"; return 1; }
  ERR=$(cat "$errf")
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# track_pid PID: a background process the suite kills at exit if a test did not.
E2E_PIDS=()
track_pid() { E2E_PIDS+=("$1"); }
kill_tracked() {
  local p
  for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  E2E_PIDS=()
}

# spawn_server DATA_DIR [PORT]: starts a `nanokube server` on a free loopback port and
# sets SPAWN_PID, SPAWN_URL, SPAWN_KUBECONFIG and SPAWN_CERTS (a directory with
# ca.crt, client.crt and client.key from the kubeconfig). Reusing a data dir
# restarts the server on the same store (and certificates), on a new port.
spawn_server() {
  local dir=$1
  mkdir -p "$dir"
  rm -f "$dir/kubeconfig"
  # A free port picked here (test_discovery_listen_port_zero checks that the
  # server picks one itself with --listen 127.0.0.1:0).
  local port=${2:-$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  "$NANOKUBE" server --data-dir "$dir" --listen "127.0.0.1:$port" >>"$dir/server.log" 2>&1 &
  SPAWN_PID=$!
  track_pid "$SPAWN_PID"
  local deadline=$((SECONDS + 30))
  until [[ -s "$dir/kubeconfig" ]]; do
    if ! kill -0 "$SPAWN_PID" 2>/dev/null || ((SECONDS >= deadline)); then
      log "server did not start"; tail -30 "$dir/server.log" >&2; return 1
    fi
    sleep 0.1
  done
  SPAWN_KUBECONFIG=$dir/kubeconfig
  SPAWN_URL=$(awk '/server:/ {print $2; exit}' "$SPAWN_KUBECONFIG")
  SPAWN_CERTS=$dir/e2e-certs
  extract_certs "$SPAWN_KUBECONFIG" "$SPAWN_CERTS"
  # The kubeconfig is written once the port listens; wait until it answers.
  wait_for 20 curl -sfk --max-time 2 "$SPAWN_URL/readyz" || { log "server not ready"; return 1; }
}

# extract_certs KUBECONFIG DIR: the CA and the admin client credential as files.
extract_certs() {
  local kc=$1 dir=$2
  mkdir -p "$dir"
  awk '/certificate-authority-data:/ {print $2; exit}' "$kc" | base64 -d >"$dir/ca.crt"
  awk '/client-certificate-data:/ {print $2; exit}' "$kc" | base64 -d >"$dir/client.crt"
  awk '/client-key-data:/ {print $2; exit}' "$kc" | base64 -d >"$dir/client.key"
  chmod 600 "$dir/client.key"
}

# start_server DATA_DIR: the suite's main server; sets SERVER_PID, SERVER_URL,
# KUBECONFIG and CERTS.
start_server() {
  spawn_server "$1" || return 1
  SERVER_PID=$SPAWN_PID SERVER_URL=$SPAWN_URL CERTS=$SPAWN_CERTS
  export KUBECONFIG=$SPAWN_KUBECONFIG SERVER_URL CERTS
}

stop_server() {
  if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}

# api METHOD PATH [BODY-FILE|-] [CONTENT-TYPE] [URL] [CERTS]: a request with the
# admin credential. Sets CODE (HTTP status), BODY and HEADERS. The body is
# read from the file (or stdin for -).
api() {
  local method=$1 path=$2 data=${3:-} ctype=${4:-application/json}
  local url=${5:-$SERVER_URL} certs=${6:-$CERTS}
  local args=(-sS --max-time 30 -X "$method" --cacert "$certs/ca.crt" --cert "$certs/client.crt"
              --key "$certs/client.key" -o "$E2E_WORK/api.body" -D "$E2E_WORK/api.headers" -w '%{http_code}')
  [[ -n "$data" ]] && args+=(-H "Content-Type: $ctype" --data-binary "@$data")
  CODE=$(curl "${args[@]}" "$url$path" 2>"$E2E_WORK/api.err") || CODE="curl-error: $(cat "$E2E_WORK/api.err")"
  BODY=$(cat "$E2E_WORK/api.body" 2>/dev/null)
  HEADERS=$(tr -d '\r' <"$E2E_WORK/api.headers" 2>/dev/null)
}

# body TEXT: writes a request body to a file and prints its path (for api).
body() { local f; f=$(mktemp "$E2E_WORK/body.XXXXXX"); printf '%s' "$1" >"$f"; echo "$f"; }

# jfield EXPR [JSON]: evaluates a Python expression over the JSON document `d`
# (default: $BODY) and prints it (strings bare, other values as JSON).
jfield() {
  "$PYTHON" -c '
import json, sys
try:
    d = json.loads(sys.stdin.read())
    v = eval(sys.argv[1], {"d": d, "json": json})
except Exception as e:
    print("<jfield error: %s>" % e); sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
' "$1" <<<"${2-$BODY}"
}

# expect_status WHAT CODE REASON [MESSAGE]: the last api call answered HTTP CODE
# with a Kubernetes Status of that reason (and exactly that message, if given).
expect_status() {
  expect_eq "$1: HTTP code" "$2" "$CODE"
  expect_eq "$1: Status kind" "Status" "$(jfield 'd.get("kind")')"
  expect_eq "$1: Status code" "$2" "$(jfield 'd.get("code")')"
  expect_eq "$1: Status reason" "$3" "$(jfield 'd.get("reason")')"
  if [[ $# -ge 4 ]]; then expect_eq "$1: Status message" "$4" "$(jfield 'd.get("message")')"; fi
}

# A fresh namespace per test keeps tests independent.
new_namespace() {
  NS=e2e-$RANDOM$RANDOM
  kubectl create -f - >/dev/null <<YAML || fail "cannot create namespace $NS"
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
YAML
}

# fresh_home: a new HOME (cold kubectl discovery cache) under the suite's work dir.
fresh_home() { mktemp -d "$E2E_WORK/home.XXXXXX"; }

# --- The local cluster (`nanokube cluster up`): network namespaces, agents, real pods ---

# cluster_up: brings up, on first use, a 1-node cluster in $E2E_WORK/cluster and
# exports CLUSTER_DIR and CLUSTER_KUBECONFIG; later calls return at once. The
# cluster's LAN address (192.168.250.1) is one per host, so a test that needs a
# cluster of its own calls cluster_down first and the next cluster_up starts the
# shared one again. A failed start is not retried by every later test.
CLUSTER_DIR= CLUSTER_KUBECONFIG= CLUSTER_UP_FAILED=0
cluster_up() {
  [[ -n "$CLUSTER_KUBECONFIG" ]] && return 0
  ((CLUSTER_UP_FAILED)) && return 1
  local dir=$E2E_WORK/cluster
  if ! "$NANOKUBE" cluster up --data-dir "$dir" >"$E2E_WORK/cluster-up.log" 2>&1; then
    CLUSTER_UP_FAILED=1
    log "cluster up failed:"; tail -40 "$E2E_WORK/cluster-up.log" >&2
    return 1
  fi
  export CLUSTER_DIR=$dir CLUSTER_KUBECONFIG=$dir/kubeconfig
}

# kc ARGS...: kubectl against the local cluster (same time limit as kubectl).
kc() { timeout 60 "$KUBECTL_BIN" --kubeconfig "$CLUSTER_KUBECONFIG" "$@"; }

# cluster_down: removes the shared cluster if it runs (the suite's EXIT trap calls it).
cluster_down() {
  [[ -n "$CLUSTER_DIR" ]] || return 0
  "$NANOKUBE" cluster down --data-dir "$CLUSTER_DIR" >>"$E2E_WORK/cluster-down.log" 2>&1 ||
    { log "cluster down failed:"; tail -20 "$E2E_WORK/cluster-down.log" >&2; }
  CLUSTER_DIR= CLUSTER_KUBECONFIG=
  export CLUSTER_DIR CLUSTER_KUBECONFIG
}
