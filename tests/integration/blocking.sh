#!/usr/bin/env bash
# Blocking list commands and pub/sub of srv's resp protocol with a real client library, over
# loopback only.
#
#   tests/integration/blocking.sh [path/to/srv] [strategy ...]   (default: build/bin/srv, all)
#
# For every strategy (or those named), starts `srv` with a resp listener whose
# pubsub_output_limit is 1MiB and runs tests/integration/blocking.py against it (redis-py from
# Debian's python3-redis): BLPOP woken from another connection (another process under fork and
# prefork), timeouts, fairness, a waiter that disconnects, a BLMOVE queue of 8 workers x 500
# tasks, CLIENT UNBLOCK, PUBLISH to subscribers on every connection, a subscriber that never
# reads cut at the limit with the server's RSS checked. Then stops srv with SIGTERM and checks
# its log. Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last; exits 1 on
# failure. Every wait is bounded: blocking.py bounds each reply, and the whole run of one
# strategy is bounded by kRunTimeout.

set -euo pipefail

SRV=${1:-build/bin/srv}
shift || true
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kRunTimeout=120  # seconds for blocking.py against one strategy
readonly kLimit=$((1024 * 1024))
# prefork and threadpool hold a worker for each open connection, blocked or not: blocking.py
# has at most 12 open at once (8 queue workers, the producer, the checker, leftovers being
# closed), so give them room.
readonly kWorkers=32
# Debian's python3 has python3-redis; a python3 earlier on PATH (pyenv, a venv) may not.
readonly kPython=/usr/bin/python3

harness_init srv-blocking-integration
require_tools --hint "(scripts/install-deps.sh --test)" timeout "$kPython"
if ! "$kPython" -c 'import redis' 2>/dev/null; then
  not_ok "python3-redis is installed (scripts/install-deps.sh --test)"
  harness_finish || exit 1
fi

cat >"$WORK/srv.yaml" <<EOF
listeners:
  - listen: 127.0.0.1:0
    protocol: {name: resp, options: {pubsub_output_limit: $kLimit}}
EOF

# run_blocking_py LABEL: blocking.py against $SRV_PORT, its checks counted as ours.
run_blocking_py() {
  local label=$1 line rc=0
  timeout "$kRunTimeout" "$kPython" "$SCRIPT_DIR/blocking.py" --port "$SRV_PORT" \
    --pid "$SRV_PID" --label "$label" --limit "$kLimit" >"$WORK/$label.py.out" 2>&1 || rc=$?
  while IFS= read -r line; do
    case $line in
      "ok - "*) ok "${line#ok - }" ;;
      "not ok - "*) not_ok "${line#not ok - }" ;;
      *) echo "$line" ;;
    esac
  done <"$WORK/$label.py.out"
  if ((rc == 124)); then
    not_ok "$label: blocking.py finished within ${kRunTimeout}s"
  elif ((rc != 0)) && ! grep -q "^not ok - " "$WORK/$label.py.out"; then
    not_ok "$label: blocking.py exited $rc"
  fi
}

strategy_checks() {
  local strategy=$1 extra=() started=$SECONDS
  case $strategy in
    prefork) extra=(--workers "$kWorkers") ;;
    threadpool) extra=(--threads "$kWorkers") ;;
  esac
  if ! start_srv "$strategy" -c "$WORK/srv.yaml" --strategy "$strategy" \
    "${extra[@]+"${extra[@]}"}"; then
    not_ok "$strategy: starts and prints its listening line"
    return
  fi
  run_blocking_py "$strategy"
  check "$strategy: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
  check "$strategy: the log has no error or sanitizer report" clean_log
  echo "# $strategy: $((SECONDS - started))s"
}

if (($# > 0)); then
  strategies=$*
else
  list_strategies
fi
# shellcheck disable=SC2086 # word splitting of the name list is intended
for strategy in $strategies; do
  strategy_checks "$strategy"
done

harness_finish
