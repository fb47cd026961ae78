#!/usr/bin/env bash
# End-to-end checks of the srv binary with real clients (nc, socat) over loopback.
#
#   tests/integration/run.sh [path/to/srv]      (default: build/bin/srv)
#
# For every strategy that `srv --list-strategies` prints, starts an echo server on a free port and
# talks to it with netcat-openbsd and socat, then stops it with SIGTERM. Also checks the command
# line: exit codes, `file:line:col` messages, --check-config, unknown names.
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last; exits 1 on failure.
# Needs only bash, coreutils, nc (netcat-openbsd) and socat. Every wait is bounded.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=20 # seconds for any one client command
readonly kAllStrategies="fork prefork thread threadpool select poll epoll libevent"

harness_init srv-integration
require_tools nc socat timeout cmp head

# ---------------------------------------------------------------------------------------------
# Clients

# nc_echo TEXT: sends TEXT with netcat (half-closing after it), expects exactly TEXT back.
nc_echo() {
  local text=$1 got
  got=$(printf '%s' "$text" | timeout "$kClientTimeout" nc -N 127.0.0.1 "$SRV_PORT"; printf x)
  got=${got%x}
  if [[ $got != "$text" ]]; then
    printf 'sent %q, got %q\n' "$text" "$got" | diag
    return 1
  fi
}

# nc_file_echo FILE: sends FILE with nc -N, expects it back byte for byte.
nc_file_echo() {
  local file=$1 out=$WORK/nc-out.bin
  if ! timeout "$kClientTimeout" nc -N 127.0.0.1 "$SRV_PORT" <"$file" >"$out"; then
    echo "nc failed or timed out" | diag
    return 1
  fi
  cmp_files "$file" "$out"
}

# socat_file_echo FILE: streams FILE through socat, expects it back byte for byte.
socat_file_echo() {
  local file=$1 out=$WORK/socat-out.bin
  if ! timeout "$kClientTimeout" socat -t5 - "TCP:127.0.0.1:$SRV_PORT" <"$file" >"$out"; then
    echo "socat failed or timed out" | diag
    return 1
  fi
  cmp_files "$file" "$out"
}

cmp_files() {
  local want=$1 got=$2
  if ! cmp -s "$want" "$got"; then
    echo "sent $(wc -c <"$want") bytes, got $(wc -c <"$got") back; $(cmp "$want" "$got" 2>&1 || true)" |
      diag
    return 1
  fi
}

# interactive_echo: one connection, several request/reply round trips before the client closes,
# so replies must come while the connection is open (not only at EOF).
interactive_echo() {
  local line reply status=0
  coproc NC { timeout "$kClientTimeout" nc -N 127.0.0.1 "$SRV_PORT"; }
  # shellcheck disable=SC2153 # NC_PID is set by coproc
  local nc_pid=$NC_PID nc_in=${NC[1]} nc_out=${NC[0]}
  for line in first second "third with spaces"; do
    printf '%s\n' "$line" >&"$nc_in"
    if ! IFS= read -r -t 5 reply <&"$nc_out"; then
      echo "no reply to '$line' within 5s" | diag
      status=1
      break
    fi
    if [[ $reply != "$line" ]]; then
      printf 'sent %q, got %q\n' "$line" "$reply" | diag
      status=1
      break
    fi
  done
  # Closing nc's stdin makes it half-close; the server then closes and nc exits.
  eval "exec $nc_in>&-"
  local deadline=$((SECONDS + 5))
  while kill -0 "$nc_pid" 2>/dev/null && ((SECONDS <= deadline)); do sleep 0.05; done
  if kill -0 "$nc_pid" 2>/dev/null; then
    echo "the server did not close the connection within 5s of the client's EOF" | diag
    status=1
  fi
  wait "$nc_pid" 2>/dev/null || true
  return "$status"
}

# concurrent_echo N: N clients at once, each sends a distinct message and must get its own back.
concurrent_echo() {
  local n=$1 i pids=() status=0
  for ((i = 0; i < n; i++)); do
    (
      { printf 'client %d says hello\n' "$i"; sleep 0.3; printf 'client %d says bye\n' "$i"; } |
        timeout "$kClientTimeout" nc -N 127.0.0.1 "$SRV_PORT" >"$WORK/concurrent-$i.out"
    ) &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      echo "client $i failed or timed out" | diag
      status=1
    fi
  done
  for ((i = 0; i < n; i++)); do
    local want
    want=$(printf 'client %d says hello\nclient %d says bye\n' "$i" "$i"; printf x)
    if [[ "$(cat "$WORK/concurrent-$i.out"; printf x)" != "$want" ]]; then
      echo "client $i got: $(head -c 200 "$WORK/concurrent-$i.out" | od -c | head -n3)" | diag
      status=1
    fi
  done
  return "$status"
}

# ---------------------------------------------------------------------------------------------
# The command line

# run_cli NAME ARGS...: runs srv to completion (bounded), keeping status, stdout and stderr.
CLI_RC=0
CLI_OUT=""
CLI_ERR=""
run_cli() {
  local name=$1
  shift
  CLI_RC=0
  timeout 10 "$SRV" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || CLI_RC=$?
  CLI_OUT=$(cat "$WORK/$name.out")
  CLI_ERR=$(cat "$WORK/$name.err")
}

# expect_cli DESCRIPTION RC PATTERN STREAM: the last run_cli exited RC and STREAM (out|err)
# contains the fixed string PATTERN.
expect_cli() {
  local description=$1 rc=$2 pattern=$3 stream=$4 text
  if [[ $stream == out ]]; then text=$CLI_OUT; else text=$CLI_ERR; fi
  if [[ $CLI_RC -eq $rc && $text == *"$pattern"* ]]; then
    ok "$description"
  else
    not_ok "$description"
    {
      echo "want exit $rc and std$stream containing: $pattern"
      echo "got exit $CLI_RC"
      echo "stdout: $CLI_OUT"
      echo "stderr: $CLI_ERR"
    } | diag
  fi
}

cli_checks() {
  run_cli list-strategies --list-strategies
  local names
  names=$(awk '{print $1}' <<<"$CLI_OUT" | tr '\n' ' ' | sed 's/ $//')
  if [[ $CLI_RC -eq 0 && $names == "$kAllStrategies" ]]; then
    ok "--list-strategies lists all 8 strategies"
  else
    not_ok "--list-strategies lists all 8 strategies"
    echo "exit $CLI_RC, names: '$names', want '$kAllStrategies'" | diag
  fi

  run_cli list-protocols --list-protocols
  expect_cli "--list-protocols lists echo" 0 "echo" out

  run_cli version --version
  expect_cli "--version exits 0 and prints the version" 0 "srv " out

  run_cli check-default --check-config
  expect_cli "--check-config on the embedded default exits 0" 0 "configuration ok" out

  cat >"$WORK/good.yaml" <<'EOF'
strategy: poll
max_connections: 100
shutdown_timeout: 2s
listeners:
  - listen: 127.0.0.1:0
    protocol: echo
EOF
  run_cli check-good --check-config -c "$WORK/good.yaml"
  expect_cli "--check-config on a valid file exits 0" 0 "configuration ok (strategy poll" out

  cat >"$WORK/bad-range.yaml" <<'EOF'
strategy: epoll
max_connections: 0
EOF
  run_cli check-bad --check-config -c "$WORK/bad-range.yaml"
  expect_cli "--check-config on an invalid file exits 2 with file:line:col" 2 \
    "$WORK/bad-range.yaml:2:18: max_connections: must be between 1 and" err
  run_cli run-bad -c "$WORK/bad-range.yaml"
  expect_cli "starting with an invalid file exits 2 with file:line:col" 2 \
    "$WORK/bad-range.yaml:2:18: max_connections:" err

  printf 'strategy: epoll\nlisteners: [127.0.0.1:7000\n' >"$WORK/bad-syntax.yaml"
  run_cli bad-syntax --check-config -c "$WORK/bad-syntax.yaml"
  expect_cli "invalid YAML exits 2 naming the file" 2 "$WORK/bad-syntax.yaml:" err
  if [[ $CLI_ERR =~ bad-syntax\.yaml:[0-9]+:[0-9]+:\ invalid\ YAML ]]; then
    ok "invalid YAML message has file:line:col: invalid YAML"
  else
    not_ok "invalid YAML message has file:line:col: invalid YAML"
    echo "stderr: $CLI_ERR" | diag
  fi

  printf 'strategy: epoll\nstrategy: poll\n' >"$WORK/dup-key.yaml"
  run_cli dup-key --check-config -c "$WORK/dup-key.yaml"
  expect_cli "a duplicate key exits 2 naming both places" 2 \
    "$WORK/dup-key.yaml:2:1: strategy: duplicate key; first given at $WORK/dup-key.yaml:1:1" err

  printf 'strategy: epoll\nlisteners:\n  - listen: 127.0.0.1\n' >"$WORK/bad-listen.yaml"
  run_cli bad-listen --check-config -c "$WORK/bad-listen.yaml"
  expect_cli "listen without a port exits 2 at the value" 2 \
    "$WORK/bad-listen.yaml:3:13: listeners[0].listen: expected HOST:PORT" err

  printf 'strategy: prefork\nprefork:\n  wokers: 3\n' >"$WORK/typo.yaml"
  run_cli typo --check-config -c "$WORK/typo.yaml"
  expect_cli "a typo in the strategy section exits 2 naming the key" 2 \
    "$WORK/typo.yaml:3:3: prefork.wokers: unknown key" err

  printf 'strategy: libevent\nlibevent:\n  method: kqueue\n' >"$WORK/bad-method.yaml"
  run_cli bad-method -c "$WORK/bad-method.yaml"
  expect_cli "an unknown libevent.method exits 2 at the value" 2 \
    "$WORK/bad-method.yaml:3:11: libevent.method: must be one of auto, epoll, poll, select" err

  run_cli missing --check-config -c "$WORK/does-not-exist.yaml"
  expect_cli "a missing config file exits 2" 2 "$WORK/does-not-exist.yaml: cannot open" err

  run_cli bad-strategy --strategy foo --check-config
  expect_cli "--strategy foo exits 2" 2 "command line: strategy: unknown strategy 'foo'" err
  local s missing=""
  for s in $kAllStrategies; do [[ $CLI_ERR == *"$s"* ]] || missing+=" $s"; done
  if [[ -z $missing ]]; then
    ok "--strategy foo lists the known strategies"
  else
    not_ok "--strategy foo lists the known strategies"
    echo "missing:$missing; stderr: $CLI_ERR" | diag
  fi

  run_cli bad-strategy-run --strategy foo
  expect_cli "--strategy foo without --check-config also exits 2" 2 "unknown strategy 'foo'" err

  run_cli bad-protocol --protocol gopher --check-config
  expect_cli "--protocol gopher exits 2 listing echo" 2 \
    "unknown protocol 'gopher'; known protocols: echo" err

  run_cli bad-listen-flag --listen 127.0.0.1:99999 --check-config
  expect_cli "--listen with a bad port exits 2" 2 \
    "command line: listeners[0].listen: port must be a number" err

  run_cli bad-max --max-connections 0 --check-config
  expect_cli "--max-connections 0 exits 2" 2 "command line: max_connections: must be between" err

  run_cli bad-workers --strategy prefork --workers 0 --check-config
  expect_cli "--workers 0 with prefork exits 2" 2 "command line: prefork.workers:" err

  # --workers writes into the prefork section; one that is not a map must not crash srv: either
  # the flag replaces it (exit 0) or the file is reported (exit 2 with file:line:col).
  printf 'strategy: prefork\nprefork: 5\n' >"$WORK/scalar-section.yaml"
  run_cli scalar-section --workers 3 --check-config -c "$WORK/scalar-section.yaml"
  if [[ $CLI_RC -eq 0 || ($CLI_RC -eq 2 && $CLI_ERR == *"scalar-section.yaml:2:10: prefork:"*) ]]; then
    ok "--workers with a non-map prefork section exits 0 or 2 (no crash)"
  else
    not_ok "--workers with a non-map prefork section exits 0 or 2 (no crash)"
    echo "exit $CLI_RC; stderr: $CLI_ERR" | diag
  fi

  run_cli bad-flag --no-such-flag
  if [[ $CLI_RC -eq 2 ]]; then
    ok "an unknown flag exits 2"
  else
    not_ok "an unknown flag exits 2"
    echo "exit $CLI_RC; stderr: $CLI_ERR" | diag
  fi
}

# ---------------------------------------------------------------------------------------------
# Each strategy

strategy_checks() {
  local strategy=$1
  if ! start_srv "$strategy" --strategy "$strategy" --protocol echo --listen 127.0.0.1:0; then
    not_ok "$strategy: starts and prints its listening line"
    return
  fi
  ok "$strategy: starts and listens on 127.0.0.1:$SRV_PORT"

  if grep -q "strategy=$strategy" "$SRV_LOG"; then
    ok "$strategy: the log names the strategy"
  else
    not_ok "$strategy: the log names the strategy"
    diag <"$SRV_LOG"
  fi

  check "$strategy: nc echoes one line" nc_echo $'hello\n'
  check "$strategy: nc echoes text without a newline" nc_echo 'no newline at the end'
  check "$strategy: nc echoes 64 KiB of random bytes" nc_file_echo "$WORK/random-64k.bin"
  check "$strategy: socat echoes 1 MiB of random bytes" socat_file_echo "$WORK/random-1m.bin"
  check "$strategy: replies arrive while the connection is open" interactive_echo
  check "$strategy: 8 concurrent clients each get their own bytes" concurrent_echo 8
  check "$strategy: still serving after all that" nc_echo $'again\n'

  check "$strategy: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
}

# A connection still open at SIGTERM is cut at shutdown_timeout, and srv still exits 0.
drain_check() {
  local strategy=$1
  cat >"$WORK/drain-$strategy.yaml" <<EOF
strategy: $strategy
shutdown_timeout: 1s
listeners:
  - listen: 127.0.0.1:0
EOF
  if ! start_srv "drain-$strategy" -c "$WORK/drain-$strategy.yaml"; then
    not_ok "$strategy: drain: starts"
    return
  fi
  # An idle client that never sends EOF on its own.
  (timeout "$kClientTimeout" nc 127.0.0.1 "$SRV_PORT" </dev/null >/dev/null 2>&1 || true) &
  local client=$!
  sleep 0.3
  check "$strategy: with an idle client open, exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
  kill "$client" 2>/dev/null || true
  wait "$client" 2>/dev/null || true
}

# The libevent strategy on each backend libevent.method can pick (auto is epoll, checked above).
libevent_method_checks() {
  local method=$1
  cat >"$WORK/libevent-$method.yaml" <<EOF
strategy: libevent
libevent:
  method: $method
listeners:
  - listen: 127.0.0.1:0
EOF
  if ! start_srv "libevent-$method" -c "$WORK/libevent-$method.yaml"; then
    not_ok "libevent.method $method: starts"
    return
  fi
  if grep -q "libevent .*: method $method (asked for $method)" "$SRV_LOG"; then
    ok "libevent.method $method: the start-up log names the backend"
  else
    not_ok "libevent.method $method: the start-up log names the backend"
    diag <"$SRV_LOG"
  fi
  check "libevent.method $method: nc echoes 64 KiB of random bytes" nc_file_echo \
    "$WORK/random-64k.bin"
  check "libevent.method $method: 8 concurrent clients each get their own bytes" concurrent_echo 8
  check "libevent.method $method: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
}

port_in_use_check() {
  if ! start_srv first-listener --strategy epoll --listen 127.0.0.1:0; then
    not_ok "a second srv on a busy port: first one starts"
    return
  fi
  local first_pid=$SRV_PID port=$SRV_PORT
  run_cli second-listener --strategy epoll --listen "127.0.0.1:$port"
  if [[ $CLI_RC -ne 0 && $CLI_RC -ne 124 && $CLI_ERR == *"$port"* ]]; then
    ok "a second srv on a busy port exits non-zero naming the address"
  else
    not_ok "a second srv on a busy port exits non-zero naming the address"
    echo "exit $CLI_RC; stderr: $CLI_ERR" | diag
  fi
  SRV_PID=$first_pid
  check "the first srv still stops cleanly" stop_srv
}

# ---------------------------------------------------------------------------------------------

head -c $((64 * 1024)) /dev/urandom >"$WORK/random-64k.bin"
head -c $((1024 * 1024)) /dev/urandom >"$WORK/random-1m.bin"

cli_checks

list_strategies
# shellcheck disable=SC2086 # word splitting of the name list is intended
for strategy in $strategies; do
  strategy_checks "$strategy"
done
for strategy in $strategies; do
  drain_check "$strategy"
done
for method in epoll poll select; do
  libevent_method_checks "$method"
done
port_in_use_check

harness_finish
