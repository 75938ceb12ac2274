# Watch: `kubectl get -w` over the Table watch stream, and the raw watch API
# (resume from a resourceVersion, synthetic ADDED events for existing objects).

# small_pod NAME: a one-container pod manifest on stdin for kubectl create -f -.
small_pod() {
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels:\n    app: watched\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n' "$1"
}

test_watch_kubectl_get_w() {
  new_namespace
  small_pod first | kubectl create -n "$NS" -f - >/dev/null || fail "create first"
  local out=$E2E_WORK/watch.$NS pid
  timeout 60 "$KUBECTL_BIN" get pods -n "$NS" -w --output-watch-events >"$out" 2>&1 &
  pid=$!; track_pid "$pid"
  wait_for 20 grep -Eq '^ADDED +first ' "$out" || fail "the initial list did not show first: $(cat "$out")"
  small_pod second | kubectl create -n "$NS" -f - >/dev/null || fail "create second"
  wait_for 20 grep -Eq '^ADDED +second ' "$out" || fail "no ADDED event for second: $(cat "$out")"
  local t0=$SECONDS
  run_ok kubectl delete pod second -n "$NS"
  ((SECONDS - t0 <= 10)) || fail "delete took $((SECONDS - t0))s"
  wait_for 20 grep -Eq '^DELETED +second ' "$out" || fail "no DELETED event for second: $(cat "$out")"
  # A last event as a barrier: anything duplicated for second came before it.
  small_pod third | kubectl create -n "$NS" -f - >/dev/null || fail "create third"
  wait_for 20 grep -Eq '^ADDED +third ' "$out" || fail "no ADDED event for third: $(cat "$out")"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  local text; text=$(cat "$out")
  expect_eq "watch header printed once" 1 "$(count_lines 'EVENT +NAME +READY +STATUS +RESTARTS +AGE' "$text")"
  expect_eq "ADDED first once" 1 "$(count_lines "ADDED +first +0/1 +Pending +0 +$AGE_RE" "$text")"
  expect_eq "ADDED second once" 1 "$(count_lines "ADDED +second +0/1 +Pending +0 +$AGE_RE" "$text")"
  expect_eq "DELETED second once" 1 "$(count_lines "DELETED +second +0/1 +[A-Za-z]+ +0 +$AGE_RE" "$text")"
  expect_eq "ADDED third once" 1 "$(count_lines "ADDED +third +0/1 +Pending +0 +$AGE_RE" "$text")"
  expect_eq "no other events for first" 0 "$(count_lines '(MODIFIED|DELETED) +first .*' "$text")"

  # Plain -w on one object: its row once, then the change as a row.
  timeout 60 "$KUBECTL_BIN" get pod third -n "$NS" -w >"$out" 2>&1 &
  pid=$!; track_pid "$pid"
  wait_for 20 grep -Eq '^third ' "$out" || fail "get pod third -w showed nothing: $(cat "$out")"
  run_ok kubectl label pod third -n "$NS" step=two
  wait_for 20 test "$(grep -Ec '^third ' "$out")" -ge 2 || fail "no row for the label change: $(cat "$out")"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  text=$(cat "$out")
  expect_eq "get pod third -w header" 1 "$(count_lines 'NAME +READY +STATUS +RESTARTS +AGE' "$text")"
  expect_eq "get pod third -w rows" 2 "$(count_lines "third +0/1 +Pending +0 +$AGE_RE" "$text")"
}

# watch_events PATH: the events of a watch request that the server ends after
# timeoutSeconds, as "TYPE name" lines.
watch_events() {
  curl -sS --max-time 10 --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key" \
    "$SERVER_URL$1" | "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line:
        e = json.loads(line)
        print(e["type"], e["object"]["metadata"].get("name", ""))'
}

test_watch_api_resume() {
  new_namespace
  local rv1 rv_list
  small_pod a | kubectl create -n "$NS" -f - >/dev/null || fail "create a"
  rv1=$(kubectl get pod a -n "$NS" -o jsonpath='{.metadata.resourceVersion}')
  small_pod b | kubectl create -n "$NS" -f - >/dev/null || fail "create b"
  run_ok kubectl label pod a -n "$NS" changed=yes
  run_ok kubectl delete pod b -n "$NS"
  small_pod c | kubectl create -n "$NS" -f - >/dev/null || fail "create c"

  local ev
  ev=$(watch_events "/api/v1/namespaces/$NS/pods?watch=true&resourceVersion=$rv1&timeoutSeconds=1")
  expect_eq "watch from the resourceVersion of a's creation" $'ADDED b\nMODIFIED a\nDELETED b\nADDED c' "$ev"
  ev=$(watch_events "/api/v1/namespaces/$NS/pods?watch=true&timeoutSeconds=1")
  expect_eq "watch without resourceVersion: ADDED for what exists" $'ADDED a\nADDED c' "$(sort <<<"$ev")"
  ev=$(watch_events "/api/v1/namespaces/$NS/pods?watch=true&resourceVersion=$rv1&timeoutSeconds=1&labelSelector=changed%3Dyes")
  # An object that comes to match the selector arrives as ADDED.
  expect_eq "watch with a label selector" $'ADDED a' "$ev"
  api GET "/api/v1/namespaces/$NS/pods"
  rv_list=$(jfield 'd["metadata"]["resourceVersion"]')
  expect_match "list resourceVersion" '^[0-9]+$' "$rv_list"
  ev=$(watch_events "/api/v1/namespaces/$NS/pods?watch=true&resourceVersion=$rv_list&timeoutSeconds=1")
  expect_eq "watch from the list's resourceVersion" "" "$ev"
  # Cluster-wide watch sees the namespace's events too.
  ev=$(watch_events "/api/v1/pods?watch=true&resourceVersion=$rv1&timeoutSeconds=1&fieldSelector=metadata.namespace%3D$NS")
  expect_eq "cluster-wide watch" $'ADDED b\nMODIFIED a\nDELETED b\nADDED c' "$ev"
  # Bookmarks allowed: still no object events when nothing changed.
  ev=$(watch_events "/api/v1/namespaces/$NS/pods?watch=true&resourceVersion=$rv_list&timeoutSeconds=1&allowWatchBookmarks=true" | grep -v '^BOOKMARK')
  expect_eq "watch with bookmarks allowed" "" "$ev"
}
