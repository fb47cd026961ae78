#!/usr/bin/env bash
# End-to-end checks of srv's resp protocol with the real Redis clients, over loopback only.
#
#   tests/integration/resp.sh [path/to/srv]      (default: build/bin/srv)
#
# For every strategy that `srv --list-strategies` prints, starts `srv --protocol resp` on a free
# port and drives it with redis-cli (PING, SET/GET, INCR, LPUSH/LRANGE, errors, a write on one
# connection read on another, concurrent INCRs) and redis-benchmark (with and without -P 16),
# then stops it with SIGTERM. Prints `ok - ...` / `not ok - ...` per check and
# `N passed, M failed` last; exits 1 on failure. Needs redis-tools (redis-cli, redis-benchmark),
# coreutils and awk. Every wait is bounded.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=10     # seconds for one redis-cli command
readonly kBenchmarkTimeout=60  # seconds for one redis-benchmark run
readonly kBenchmarkTests="ping,set,get,incr,lpush,rpop"
readonly kBenchmarkNames="PING_INLINE PING_MBULK SET GET INCR LPUSH RPOP"
readonly kBenchmarkClients=50

harness_init srv-resp-integration
require_tools --hint "(scripts/install-deps.sh --test)" redis-cli redis-benchmark timeout awk

# ---------------------------------------------------------------------------------------------
# Clients

# cli ARGS...: one redis-cli command on its own connection, bounded; prints its output.
cli() {
  timeout "$kClientTimeout" redis-cli -h 127.0.0.1 -p "$SRV_PORT" "$@"
}

# expect_reply WANT ARGS...: redis-cli ARGS prints exactly WANT (lines joined by newlines).
expect_reply() {
  local want=$1 got
  shift
  if ! got=$(cli "$@" 2>&1); then
    printf 'redis-cli %s failed or timed out: %s\n' "$*" "$got" | diag
    return 1
  fi
  if [[ $got != "$want" ]]; then
    printf 'redis-cli %s\n  want %q\n  got  %q\n' "$*" "$want" "$got" | diag
    return 1
  fi
}

# Each redis-cli call below is its own connection: under fork and prefork its own process.
set_then_get() {
  expect_reply OK SET "key:$1" "value of $1" && expect_reply "value of $1" GET "key:$1"
}
incr_across() {
  expect_reply 1 INCR counter && expect_reply 2 INCR counter && expect_reply 2 GET counter
}
push_then_range() {
  expect_reply 3 LPUSH list x y z && expect_reply $'z\ny\nx' LRANGE list 0 -1
}

# one_connection: several commands over a single connection (redis-cli reading stdin).
one_connection() {
  local got want
  want=$'OK\nhello world\n6\n2\nb\na'
  got=$(printf '%s\n' 'SET greeting "hello world"' 'GET greeting' 'APPEND short abcdef' \
    'RPUSH pair a b' 'RPOP pair' 'LPOP pair' | cli 2>&1) || true
  if [[ $got != "$want" ]]; then
    printf 'want %q\ngot  %q\n' "$want" "$got" | diag
    return 1
  fi
}

# concurrent_incr N: N redis-cli processes INCR one key at once; it must end at N.
concurrent_incr() {
  local n=$1 i pids=() status=0
  cli DEL concurrent >/dev/null
  for ((i = 0; i < n; i++)); do
    cli INCR concurrent >/dev/null &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || status=1; done
  local got
  got=$(cli GET concurrent)
  if [[ $status -ne 0 || $got != "$n" ]]; then
    echo "after $n concurrent INCRs GET says '$got' (client status $status)" | diag
    return 1
  fi
}

# benchmark LABEL ARGS...: redis-benchmark over every test in kBenchmarkTests; ok if it exits 0,
# prints no error, and reports a positive rate for every test. Sets BENCH_SUMMARY.
BENCH_SUMMARY=""
benchmark() {
  local out=$WORK/bench-$1.csv err=$WORK/bench-$1.err rc=0
  shift
  timeout "$kBenchmarkTimeout" redis-benchmark -h 127.0.0.1 -p "$SRV_PORT" \
    -t "$kBenchmarkTests" -n 20000 -c "$kBenchmarkClients" -q --csv "$@" >"$out" 2>"$err" || rc=$?
  BENCH_SUMMARY=$(awk -F'"' 'NR > 1 { printf "%s=%.0f ", $2, $4 }' "$out")
  if ((rc != 0)); then
    echo "redis-benchmark exited $rc (124: timed out after ${kBenchmarkTimeout}s)" | diag
    tail -n 5 "$err" | diag
    return 1
  fi
  if grep -qi "error" "$out" "$err"; then
    grep -hi "error" "$out" "$err" | head -n 5 | diag
    return 1
  fi
  local name rps
  for name in $kBenchmarkNames; do
    rps=$(awk -F'"' -v name="$name" '$2 == name { print $4 }' "$out")
    if ! awk -v r="${rps:-0}" 'BEGIN { exit !(r > 0) }'; then
      echo "no positive rate for $name (got '${rps}')" | diag
      diag <"$out"
      return 1
    fi
  done
}

# curl POSTing to the resp port (what a hostile web page makes a browser do): the connection is
# closed without a reply (curl: "Empty reply from server", exit 52), and the server logs it.
http_post_is_dropped() {
  local rc=0
  curl -sS --max-time 5 -o /dev/null --data 'SET pwned 1' "http://127.0.0.1:$SRV_PORT/" \
    2>"$WORK/curl-post.err" || rc=$?
  if ((rc != 52)); then
    echo "curl exited $rc, expected 52 (empty reply)" | diag
    diag <"$WORK/curl-post.err"
    return 1
  fi
  grep -q "possibly cross-protocol scripting" "$SRV_LOG" || {
    echo "no warning in the log" | diag
    return 1
  }
}

# ---------------------------------------------------------------------------------------------
# Each strategy

strategy_checks() {
  local strategy=$1 extra=()
  # prefork and threadpool serve one connection per worker until it closes: give them a worker
  # for each of redis-benchmark's clients (and the one it uses to read CONFIG).
  case $strategy in
    prefork) extra=(--workers $((kBenchmarkClients + 4))) ;;
    threadpool) extra=(--threads $((kBenchmarkClients + 4))) ;;
  esac
  if ! start_srv "$strategy" --strategy "$strategy" --protocol resp --listen 127.0.0.1:0 \
    "${extra[@]+"${extra[@]}"}"; then
    not_ok "$strategy: starts and prints its listening line"
    return
  fi
  ok "$strategy: starts and listens on 127.0.0.1:$SRV_PORT"

  check "$strategy: PING" expect_reply PONG PING
  check "$strategy: SET on one connection, GET on another" set_then_get "$strategy"
  check "$strategy: INCR counts across connections" incr_across
  check "$strategy: LPUSH then LRANGE" push_then_range
  check "$strategy: a wrong-type error" \
    expect_reply "WRONGTYPE Operation against a key holding the wrong kind of value" GET list
  check "$strategy: an unknown command" \
    expect_reply "ERR unknown command 'nosuch', with args beginning with: 'a' " nosuch a
  check "$strategy: several commands on one connection" one_connection
  check "$strategy: an HTTP POST (curl) is closed without a reply" http_post_is_dropped
  check "$strategy: 16 concurrent INCRs from 16 connections" concurrent_incr 16

  if benchmark "$strategy"; then
    ok "$strategy: redis-benchmark -c $kBenchmarkClients: no errors ($BENCH_SUMMARY)"
  else
    not_ok "$strategy: redis-benchmark -c $kBenchmarkClients: no errors ($BENCH_SUMMARY)"
  fi
  if benchmark "$strategy-pipelined" -P 16; then
    ok "$strategy: redis-benchmark -P 16: no errors ($BENCH_SUMMARY)"
  else
    not_ok "$strategy: redis-benchmark -P 16: no errors ($BENCH_SUMMARY)"
  fi
  check "$strategy: still answering after the benchmarks" expect_reply PONG PING
  check "$strategy: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
  check "$strategy: the log has no error or sanitizer report" clean_log
}


# The keyspace belongs to the server: every strategy's server starts empty.
fresh_keyspace_check() {
  if ! start_srv fresh --strategy epoll --protocol resp --listen 127.0.0.1:0; then
    not_ok "a new server starts with an empty keyspace: starts"
    return
  fi
  check "a new server starts with an empty keyspace" expect_reply 0 DBSIZE
  check "the fresh server stops cleanly" stop_srv
}

# requirepass from the config file: NOAUTH until AUTH, then commands work.
auth_check() {
  cat >"$WORK/auth.yaml" <<'EOF'
strategy: fork
listeners:
  - listen: 127.0.0.1:0
    protocol: {name: resp, options: {requirepass: "s3cret", max_memory: 8MiB}}
EOF
  if ! start_srv auth -c "$WORK/auth.yaml"; then
    not_ok "requirepass: starts"
    return
  fi
  check "requirepass: a command before AUTH is refused" \
    expect_reply "NOAUTH Authentication required." PING
  check "requirepass: redis-cli -a works" expect_reply PONG --no-auth-warning -a s3cret PING
  check "requirepass: CONFIG GET maxmemory shows the option" \
    expect_reply $'maxmemory\n8388608' --no-auth-warning -a s3cret CONFIG GET maxmemory
  check "requirepass: stops cleanly" stop_srv
}

config_error_check() {
  printf 'listeners:\n  - listen: 127.0.0.1:0\n    protocol: {name: resp, options: {max_memroy: 1MiB}}\n' \
    >"$WORK/typo.yaml"
  local err rc=0
  err=$(timeout 10 "$SRV" --check-config -c "$WORK/typo.yaml" 2>&1) || rc=$?
  if [[ $rc -eq 2 && $err == *"typo.yaml:3:"*"protocol.options.max_memroy: unknown key"* ]]; then
    ok "a misspelt resp option exits 2 naming file:line:col"
  else
    not_ok "a misspelt resp option exits 2 naming file:line:col"
    echo "exit $rc: $err" | diag
  fi
}

# ---------------------------------------------------------------------------------------------

config_error_check
list_strategies
# shellcheck disable=SC2086 # word splitting of the name list is intended
for strategy in $strategies; do
  strategy_checks "$strategy"
done
fresh_keyspace_check
auth_check

harness_finish
