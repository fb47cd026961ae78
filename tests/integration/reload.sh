#!/usr/bin/env bash
# The master process, from outside as an operator uses it: SIGHUP reloads (through `srv -s
# reload` and its pid file) that switch strategy under wrk's load with no failed request, one of
# them with a broken config (refused, the old generation goes on), the resp keyspace kept across
# a switch, `/status` naming the last strategy and `/metrics` counting the reloads, listeners
# added and removed by a reload, a killed generation respawned under every strategy with its
# counters going on from where they were, and `srv -s stop`.
#
#   tests/integration/reload.sh [path/to/srv]      (default: build/bin/srv)
#
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last; exits 1 on failure.
# Every wait is bounded.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=20 # seconds for any one client command

harness_init srv-reload
require_tools --hint "(scripts/install-deps.sh --test)" curl wrk redis-cli timeout ss jq
list_strategies

CONFIG=$WORK/srv.yaml
PID_FILE=$WORK/srv.pid

# write_config STRATEGY [EXTRA_LISTENER_PORT]: http on port 0, resp on a fixed free port (a
# reload keeps a socket by its configured address, so port 0 is kept too), and optionally a
# third listener.
write_config() {
  {
    echo "strategy: $1"
    echo "pid_file: $PID_FILE"
    # Pools as large as wrk's connection count: a fixed pool smaller than that leaves the rest
    # waiting in the backlog (and wrk counting timeouts) whatever a reload does.
    echo "prefork: {workers: 8}"
    echo "threadpool: {threads: 8}"
    echo "admin: {listen: 127.0.0.1:$ADMIN_PORT}"
    echo "listeners:"
    echo "  - {listen: 127.0.0.1:0, protocol: http}"
    echo "  - {listen: 127.0.0.1:$RESP_PORT, protocol: resp}"
    [[ -n ${2:-} ]] && echo "  - {listen: 127.0.0.1:$2, protocol: http}"
    true
  } >"$CONFIG"
}

reload() { timeout "$kClientTimeout" "$SRV" -c "$CONFIG" -s reload >/dev/null; }

# wait_log PATTERN COUNT: the log has at least COUNT lines matching PATTERN within 10 s.
wait_log() {
  local deadline=$((SECONDS + 10))
  while (($(grep -cE "$1" "$SRV_LOG" || true) < $2)); do
    ((SECONDS > deadline)) && return 1
    sleep 0.05
  done
}

# generation_pid N: the pid the master logged for generation N's latest start.
generation_pid() {
  sed -n "s/.*generation $1 started: strategy [a-z_]*, pid \([0-9]*\).*/\1/p" "$SRV_LOG" | tail -n1
}

resp() { timeout "$kClientTimeout" redis-cli -p "$RESP_PORT" "$@"; }

# metric NAME: the value of the first sample of NAME on /metrics.
metric() {
  # awk reads to the end: exiting early could fail curl's write (pipefail).
  curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk -v n="$1" '!found && $1 ~ "^"n"({|$)" {print $2; found = 1}'
}

RESP_PORT=$(free_port)
ADMIN_PORT=$(free_port)
first=$(echo "$strategies" | head -n1)

# --- reloads switching strategy under load, one of them broken ------------------------------
write_config "$first"
if start_srv reload -c "$CONFIG"; then
  check "pid_file holds the master's pid" test "$(cat "$PID_FILE" 2>/dev/null)" = "$SRV_PID"
  resp set kept value >/dev/null
  resp rpush queue a b c >/dev/null
  n=$(echo "$strategies" | wc -l)
  duration=$((n * 3 / 2 + 4))
  wrk_start "$duration" "http://127.0.0.1:$SRV_PORT/"
  sleep 1
  reloads=0
  for s in $strategies; do
    if ((reloads == 2)); then
      # Broken YAML: `srv -s reload` would refuse to send it (it reads the config first, as
      # nginx -s does), so the signal goes by hand, as a careless operator's would.
      echo "strategy: [not, a, strategy" >"$CONFIG"
      kill -HUP "$SRV_PID"
      check "a broken config is refused with file:line:col and the old generation goes on" \
        wait_log "reload refused: $CONFIG:[0-9]+:[0-9]+: " 1
    fi
    write_config "$s"
    reload
    reloads=$((reloads + 1))
    sleep 1.4
  done
  wrk_check "wrk through $reloads reloads ($(echo $strategies | tr ' ' ','))"
  last=$(echo "$strategies" | tail -n1)
  check "the last generation runs $last" wait_log "generation $((reloads + 1)) started: strategy $last," 1
  check "/status names it: strategy $last, generation $((reloads + 1))" test \
    "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/status" | jq -r '"\(.strategy) \(.generation)"')" = \
    "$last $((reloads + 1))"
  check "/metrics counts the reloads: $reloads applied, 1 refused" test \
    "$(metric 'srv_reloads_total{result="applied"}') $(metric 'srv_reloads_total{result="refused"}')" = \
    "$reloads 1"
  check "every old generation drained" wait_log "generation [0-9]+ has drained" "$reloads"
  check "the keyspace survived every strategy switch" test "$(resp get kept)" = value
  check "the list too" test "$(resp llen queue)" = 3

  # --- listeners added and removed by a reload ----------------------------------------------
  extra=$(free_port)
  write_config "$last" "$extra"
  reload
  check "a listener added by a reload serves" \
    timeout 10 bash -c "until curl -sf http://127.0.0.1:$extra/healthz >/dev/null; do sleep 0.1; done"
  write_config "$last"
  reload
  check "a listener removed by a reload is closed once its generation drained" \
    timeout 10 bash -c "while ss -ltnH 'sport = :$extra' | grep -q LISTEN; do sleep 0.1; done"
  check "the others still serve" curl -sf "http://127.0.0.1:$SRV_PORT/healthz" -o /dev/null

  # --- a reload whose new listener cannot bind ------------------------------------------------
  taken=$(free_port)
  /usr/bin/python3 -c "import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $taken)); s.listen(); time.sleep(15)" &
  holder=$!
  sleep 0.3
  write_config "$last" "$taken"
  reload
  check "a reload whose listener cannot bind is refused, naming it" \
    wait_log "reload refused: cannot listen on 127.0.0.1:$taken" 1
  check "and the master lives on, serving" curl -sf "http://127.0.0.1:$SRV_PORT/healthz" -o /dev/null
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  write_config "$last"

  # --- srv -s stop ---------------------------------------------------------------------------
  timeout "$kClientTimeout" "$SRV" -c "$CONFIG" -s stop >/dev/null
  deadline=$((SECONDS + 10))
  while kill -0 "$SRV_PID" 2>/dev/null && ((SECONDS <= deadline)); do sleep 0.05; done
  rc=0
  wait "$SRV_PID" || rc=$?
  forget_pid "$SRV_PID"
  check "srv -s stop: the master exits 0" test "$rc" = 0
  check "and removes its pid_file" test ! -e "$PID_FILE"
  # The refused reloads' lines are the errors expected.
  grep -v "reload refused: " "$SRV_LOG" >"$WORK/reload-rest.log" || true
  check "no other error in the log" env SRV_LOG="$WORK/reload-rest.log" bash -c \
    "! grep -E '\[error\]|\[critical\]|Sanitizer|runtime error:|killed by signal' \"\$SRV_LOG\""
fi

# --- a killed generation is respawned, under every strategy ----------------------------------
for s in $strategies; do
  write_config "$s"
  start_srv "respawn-$s" -c "$CONFIG" || {
    not_ok "$s: srv starts"
    continue
  }
  resp set survivor "$s" >/dev/null
  for _ in 1 2 3; do curl -sf "http://127.0.0.1:$SRV_PORT/healthz" -o /dev/null || true; done
  # A keep-alive connection open (and answered) as the generation dies.
  exec 7<>"/dev/tcp/127.0.0.1/$SRV_PORT"
  printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&7
  read -r -t 5 _ <&7 || true
  accepted_before=$(metric srv_connections_accepted_total)
  requests_before=$(metric srv_requests_total)
  victim=$(generation_pid 1)
  kill -KILL "$victim"
  if wait_log "generation 1 \(strategy $s\) killed by signal 9" 1 &&
    wait_log "generation 1 started: strategy $s," 2; then
    ok "$s: the generation killed with SIGKILL (pid $victim) is respawned ($(generation_pid 1))"
  else
    not_ok "$s: the generation killed with SIGKILL is respawned"
    tail -n 5 "$SRV_LOG" | diag
  fi
  check "$s: http serves after the respawn" \
    timeout 10 bash -c "until curl -sf http://127.0.0.1:$SRV_PORT/healthz >/dev/null; do sleep 0.1; done"
  check "$s: the keyspace outlived the generation" test "$(resp get survivor)" = "$s"
  accepted_after=$(metric srv_connections_accepted_total)
  requests_after=$(metric srv_requests_total)
  check "$s: counters went on from where they were (accepted $accepted_before -> $accepted_after, requests $requests_before -> $requests_after)" \
    test "${accepted_before:-0}" -ge 3 -a "${accepted_after:-0}" -gt "${accepted_before:-0}" \
    -a "${requests_after:-0}" -gt "${requests_before:-0}"
  check "$s: /metrics counts the restart" test "$(metric srv_worker_restarts_total)" = 1
  exec 7>&-
  # A connection of a killed process is not left counted as active (its reaper takes it back).
  deadline=$((SECONDS + 15))
  while [[ $(metric srv_connections_active) != 0 ]] && ((SECONDS <= deadline)); do sleep 0.1; done
  check "$s: srv_connections_active is back to 0 ($(metric srv_connections_active))" \
    test "$(metric srv_connections_active)" = 0
  check "$s: srv exits 0 on SIGTERM" stop_srv
  # Generations are forks of the master, with its command line.
  check "$s: nothing of it is left" test -z "$(pgrep -f -- "-c $CONFIG" || true)"
done

harness_finish
