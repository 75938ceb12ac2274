# Helpers for the e2e suite: a real nanokube server, the real kubectl.
# Sourced by test/e2e/run; every test file is a list of functions named test_*.

E2E_FAILS=0

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

# run_ok CMD...: runs a command that must succeed; its stdout+stderr in $OUT.
run_ok() {
  OUT=$("$@" 2>&1) || { fail "command failed ($?): $* :: $OUT"; return 1; }
}

# run_fail CMD...: runs a command that must fail; its stdout+stderr in $OUT.
run_fail() {
  if OUT=$("$@" 2>&1); then fail "command succeeded but should fail: $* :: $OUT"; return 1; fi
  return 0
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# start_server DATA_DIR: starts `nanokube server` on a free loopback port.
start_server() {
  local dir=$1
  mkdir -p "$dir"
  rm -f "$dir/kubeconfig"
  "$NANOKUBE" server --data-dir "$dir" --listen 127.0.0.1:0 >>"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  wait_for 20 test -f "$dir/kubeconfig" || { log "server did not start"; cat "$dir/server.log" >&2; return 1; }
  export KUBECONFIG=$dir/kubeconfig
  SERVER_URL=$(awk '/server:/ {print $2; exit}' "$KUBECONFIG")
}

stop_server() {
  if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}

# A fresh namespace per test keeps tests independent.
new_namespace() {
  NS=e2e-$RANDOM$RANDOM
  kubectl create -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
YAML
}
