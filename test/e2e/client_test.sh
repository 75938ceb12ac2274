# The API client (src/client) against the suite's real server: nk_client_smoke
# (built beside nanokube) drives create/get/update/patch/list/delete, Status
# errors, TLS verification, the connection pool, watch and the informer with
# the suite's kubeconfig, and prints one "ok <check>" line per check.

client_smoke_bin() { echo "$(dirname "$NANOKUBE")/src/client/nk_client_smoke"; }

test_client_smoke() {
  local bin; bin=$(client_smoke_bin)
  if [[ ! -x "$bin" ]]; then fail "nk_client_smoke not built at $bin"; return; fi
  local out rc=0
  out=$(timeout 120 "$bin" "$KUBECONFIG" 2>&1) || rc=$?
  expect_eq "nk_client_smoke exit status" 0 "$rc"
  expect_no_line "no failed check" 'FAIL .*' "$out"
  expect_line "summary" 'PASS: 0 failed' "$out"
  # The checks that must have run (a smoke binary that skips them must not pass).
  local check
  for check in 'create configmap' 'create twice is AlreadyExists with the server.s message and details' \
      'get missing is NotFound' 'merge patch' 'strategic merge patch' 'json patch' \
      'update with a stale resourceVersion is Conflict' 'invalid name is Invalid with causes' \
      'list with a label selector' 'watch sees ADDED and MODIFIED' 'watch sees DELETED' \
      'destroying a watch stops it promptly' 'a refused watch ends with the server.s error' \
      '240 concurrent gets succeed' 'the pool reuses connections' \
      'a server certificate from another CA is refused' 'the server is verified by its DNS SAN \(localhost\)' \
      'a bad bearer token is Unauthorized' 'informer syncs' 'a created object reaches the cache and the queue' \
      'a deleted object leaves the cache' 'an earlier snapshot is unchanged'; do
    expect_line "check ran: $check" "ok $check" "$out"
  done
}

# A kubeconfig whose CA is not the server's: the client refuses the server
# before sending anything (checked with the smoke binary's first request).
test_client_smoke_wrong_ca_fails() {
  local bin; bin=$(client_smoke_bin)
  if [[ ! -x "$bin" ]]; then fail "nk_client_smoke not built at $bin"; return; fi
  local kc=$E2E_WORK/client-wrong-ca.kubeconfig other
  # Another server's CA: a fresh data dir makes a fresh CA.
  spawn_server "$E2E_WORK/client-other" || { fail "cannot start a second server"; return; }
  other=$(awk '/certificate-authority-data:/ {print $2; exit}' "$SPAWN_KUBECONFIG")
  kill "$SPAWN_PID"; wait "$SPAWN_PID" 2>/dev/null
  sed "s|certificate-authority-data: .*|certificate-authority-data: $other|" "$KUBECONFIG" >"$kc"
  local out rc=0
  out=$(timeout 60 "$bin" "$kc" 2>&1) || rc=$?
  expect_eq "nk_client_smoke with a foreign CA exit status" 1 "$rc"
  expect_match "the namespace create fails on verification" 'FAIL create namespace: code ServiceUnavailable .*certificate verify failed' "$out"
}
