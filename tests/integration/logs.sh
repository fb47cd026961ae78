#!/usr/bin/env bash
# Logs, from outside as an operator uses them, under fork, prefork, thread and epoll: the server
# log as JSON in a file (every line parses with jq and says its generation: 0 for the master,
# 1 for the generation and its processes), an access log per listener with a line for each
# curl (http) and redis-cli (resp) request over TCP and TLS, and logrotate's move-then-SIGUSR1:
# new lines land in new files, in every process, including the fork child and the prefork
# worker that hold a connection open across the rotation. Then a reload that turns the log
# into text at debug level, and `log:` mistakes refused with file:line:col and exit 2.
#
#   tests/integration/logs.sh [path/to/srv]      (default: build/bin/srv)
#
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last; exits 1 on failure.
# Every wait is bounded.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=10  # seconds for one client call

harness_init srv-logs
require_tools --hint "(scripts/install-deps.sh --test)" curl redis-cli jq openssl timeout

CONFIG=$WORK/srv.yaml
PID_FILE=$WORK/srv.pid
LOG=$WORK/srv.log
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# write_config STRATEGY [LOG_MAP]: http and resp, each over TCP and TLS on port 0 (each with its
# access log), the server log as LOG_MAP says (default: JSON into $LOG).
write_config() {
  local tls="tls: {cert: cert.pem, key: key.pem}"
  cat >"$CONFIG" <<EOF
strategy: $1
pid_file: $PID_FILE
log: ${2:-{format: json, file: srv.log\}}
prefork: {workers: 2}
listeners:
  - {listen: 127.0.0.1:0, protocol: http, access_log: http.log}
  - {listen: 127.0.0.1:0, protocol: http, access_log: http.log, $tls}
  - {listen: 127.0.0.1:0, protocol: resp, access_log: resp.log}
  - {listen: 127.0.0.1:0, protocol: resp, access_log: resp.log, $tls}
EOF
}

# wait_for FILE JQ_FILTER [COUNT]: FILE holds at least COUNT (1) JSON lines matching the filter
# within 10 s.
wait_for() {
  local deadline=$((SECONDS + 10))
  while (($(jq -c "select($2)" "$1" 2>/dev/null | wc -l) < ${3:-1})); do
    ((SECONDS > deadline)) && return 1
    sleep 0.05
  done
}

# port N: the port of the N-th listener (0-based), from the master's "listening on" lines as
# start read them (a rotation moves them away).
ports=()
port() { echo "${ports[$1]}"; }

# start STRATEGY: srv with the config, its stderr kept apart; waits for the generation.
start() {
  rm -f "$WORK"/*.log*
  write_config "$1"
  "$SRV" -c "$CONFIG" 2>"$WORK/stderr" &
  SRV_PID=$!
  started_pids+=("$SRV_PID")
  wait_for "$LOG" '.msg | startswith("generation 1 started")' || return 1
  mapfile -t ports < <(jq -r 'select(.msg | startswith("listening on 127.0.0.1:")) | .msg' "$LOG" |
    sed 's/listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/')
}

# stop: SIGTERM to the master and a bounded wait for its exit 0.
stop() {
  SRV_LOG=$WORK/stderr stop_srv
}

# jq_true ARGS...: jq -e, quietly: the filter's result is true.
jq_true() { jq -e "$@" >/dev/null; }

# Clients whose failure shows in the checks that follow (a missing access line), not here.
http() { timeout "$kClientTimeout" curl -sk -o /dev/null "$@" || true; }
resp() { timeout "$kClientTimeout" redis-cli "$@" >/dev/null || true; }

# --- per strategy: JSON lines, access lines over TCP and TLS, rotation --------------------------
for s in fork prefork thread epoll; do
  if ! start "$s"; then
    not_ok "$s: srv starts with log: {format: json, file: ...}"
    diag <"$WORK/stderr"
    continue
  fi
  http "http://127.0.0.1:$(port 0)/"
  http "http://127.0.0.1:$(port 0)/nope"
  http "https://127.0.0.1:$(port 1)/healthz"
  resp -p "$(port 2)" set k v
  resp -p "$(port 2)" lpush k x
  resp -p "$(port 3)" --tls --insecure get k
  a="select(.generation == 1 and .bytes_in > 0 and .bytes_out > 0"
  check "$s: http over TCP: a 200 and a 404 line in http.log" \
    wait_for "$WORK/http.log" "$a and .local == \"127.0.0.1:$(port 0)\" and
      ((.request == \"GET /\" and .status == \"200\") or
       (.request == \"GET /nope\" and .status == \"404\" and .error == \"4xx\")))" 2
  check "$s: http over TLS: its line names the TLS listener" \
    wait_for "$WORK/http.log" "$a and .local == \"127.0.0.1:$(port 1)\" and
      .request == \"GET /healthz\" and .status == \"200\")"
  check "$s: resp over TCP: SET ok and LPUSH error (wrongtype)" \
    wait_for "$WORK/resp.log" "$a and .protocol == \"resp\" and .local == \"127.0.0.1:$(port 2)\"
      and ((.request == \"SET\" and .status == \"ok\") or
           (.request == \"LPUSH\" and .status == \"error\" and .error == \"wrongtype\")))" 2
  check "$s: resp over TLS" wait_for "$WORK/resp.log" \
    "$a and .local == \"127.0.0.1:$(port 3)\" and .request == \"GET\" and .status == \"ok\")"

  # A connection held open across the rotation: its process (a fork child, a prefork worker)
  # must reopen too. bash's /dev/tcp, so that nothing reconnects.
  exec 3<>"/dev/tcp/127.0.0.1/$(port 2)"
  printf 'PING\r\n' >&3
  IFS= read -r -t "$kClientTimeout" pong <&3 || pong=""
  check "$s: a kept connection answers PING before the rotation" test "$pong" = $'+PONG\r'
  for f in srv http resp; do mv "$WORK/$f.log" "$WORK/$f.log.1"; done
  kill -USR1 "$SRV_PID"
  check "$s: the master writes to the new srv.log at once" \
    wait_for "$LOG" '.generation == 0 and (.msg | startswith("SIGUSR1"))'
  printf 'SET after rotation\r\n' >&3
  IFS= read -r -t "$kClientTimeout" reply <&3 || reply=""
  exec 3>&-
  check "$s: the kept connection answers SET after the rotation" test "$reply" = $'+OK\r'
  http "http://127.0.0.1:$(port 0)/"
  http "https://127.0.0.1:$(port 1)/"
  check "$s: http lines after SIGUSR1 land in the new http.log" \
    wait_for "$WORK/http.log" '.request == "GET /" and .generation == 1' 2
  check "$s: the kept connection's next command lands in the new resp.log" \
    wait_for "$WORK/resp.log" '.request == "SET" and .generation == 1'
  if stop; then ok "$s: stops with status 0"; else not_ok "$s: stops with status 0"; fi
  # The generation's own processes (the prefork workers each) log their drain to the new file.
  processes=1
  [[ $s == prefork ]] && processes=3
  check "$s: $processes process(es) of generation 1 wrote their shutdown to the new srv.log" \
    test "$(jq -r 'select(.generation == 1 and (.msg | startswith("shutting down"))) | .pid' \
      "$LOG" | sort -u | wc -l)" -ge "$processes"
  check "$s: nothing after the rotation went to the old files (one SET, from before it)" \
    test "$(jq -c 'select(.request == "SET" or (.msg // "" | startswith("shutting")))' \
      "$WORK/srv.log.1" "$WORK/resp.log.1" | wc -l)" -eq 1
  check "$s: every server log line is a JSON object with time, level, pid, generation, msg" \
    jq_true -s 'all(.[]; (.time | test("Z$")) and (.level | type == "string") and
      (.pid | type == "number") and (.generation | type == "number") and (.msg | type == "string"))
      and any(.[]; .generation == 1) and any(.[]; .generation == 0)' "$WORK/srv.log.1" "$LOG"
  check "$s: no error in the server log" \
    test -z "$(jq -c 'select(.level == "error" or .level == "critical")' "$WORK/srv.log.1" "$LOG")"
done

# --- a reload turns the log into text at debug level ---------------------------------------------
if start epoll; then
  write_config epoll "{level: debug, format: text, file: srv.log}"
  timeout "$kClientTimeout" "$SRV" -c "$CONFIG" -s reload >/dev/null
  wait_text() {
    timeout 10 bash -c "until grep -qE -- '$1' '$LOG'; do sleep 0.05; done"
  }
  check "reload: the master's lines turn to text" \
    wait_text '^[-0-9T:.]+ \[info\] \[master\] \[pid [0-9]+\] reload: generation 2'
  check "reload: generation 2 drains generation 1" wait_text 'generation 1 drains: generation 2 serves'
  kill -USR1 "$SRV_PID"
  check "reload: generation 2 logs at debug level, in text, with its number" \
    wait_text '\[debug\] \[generation 2\] \[pid [0-9]+\] SIGUSR1: log files reopened'
  http "http://127.0.0.1:$(port 0)/healthz"
  check "reload: the access log turns to text too" timeout 10 bash -c \
    "until grep -qE '^127\.0\.0\.1:[0-9]+ 127\.0\.0\.1:$(port 0) \[[-0-9T:.]+\] http \"GET /healthz\" 200 [0-9]+ [0-9]+ [0-9.]+$' '$WORK/http.log'; do sleep 0.05; done"
  echo "log: {format: yaml}" >>"$CONFIG"
  kill -HUP "$SRV_PID"
  check "reload: a bad log: is refused with file:line:col" \
    wait_text "reload refused: $CONFIG:[0-9]+:[0-9]+: log: duplicate key"
  write_config epoll "{format: yaml, file: srv.log}"
  kill -HUP "$SRV_PID"
  check "reload: a bad log.format is refused at its place" \
    wait_text "reload refused: $CONFIG:3:15: log.format: must be text or json, got .yaml."
  check "reload: stops with status 0" stop
else
  not_ok "srv starts under epoll for the reload checks"
fi

# --- log: mistakes: file:line:col and exit 2 ------------------------------------------------------
# bad_config NAME LOG_LINE LISTENER_EXTRA EXPECTED: --check-config exits 2 saying EXPECTED.
bad_config() {
  local file=$WORK/bad-$1.yaml rc=0
  printf 'strategy: epoll\n%s\nlisteners:\n  - {listen: 127.0.0.1:0%s}\n' "$2" "$3" >"$file"
  timeout 10 "$SRV" -c "$file" --check-config >/dev/null 2>"$WORK/bad.err" || rc=$?
  if ((rc == 2)) && grep -qF -- "$file:$4" "$WORK/bad.err"; then
    ok "bad config ($1): exit 2, $4"
  else
    not_ok "bad config ($1): exit 2 (got $rc), $4"
    diag <"$WORK/bad.err"
  fi
}
bad_config format "log: {format: xml}" "" "2:15: log.format: must be text or json, got 'xml'"
bad_config level "log: {level: loud}" "" "2:14: log.level: must be debug, info, warn or error"
bad_config key "log: {levle: info}" "" "2:7: log.levle: unknown key; known keys here: file"
bad_config both "log: {format: json}
log_level: debug" "" "3:12: log_level: log is given already"
bad_config file "log: {file: no/such/dir.log}" "" "2:13: log.file: cannot open"
bad_config access "log: {}" ", access_log: no/such/dir.log" "4:39: listeners[0].access_log: cannot open"

harness_finish
