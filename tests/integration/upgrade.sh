#!/usr/bin/env bash
# Binary upgrade (SIGUSR2, `srv -s upgrade`), from outside as an operator does it: under wrk's
# load, one upgrade per strategy (the new binary re-reads the config, so each switches strategy)
# with no failed request; the pid file follows the new master and each old one exits; a broken
# binary and a broken config leave the old master serving; the admin page names the new master.
#
#   tests/integration/upgrade.sh [path/to/srv]      (default: build/bin/srv)
#
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last; exits 1 on failure.
# Every wait is bounded.

set -euo pipefail

SRV_BUILT=$(cd "$(dirname "${1:-build/bin/srv}")" && pwd)/$(basename "${1:-build/bin/srv}")
SRV=$SRV_BUILT
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=20 # seconds for any one client command

harness_init srv-upgrade
require_tools --hint "(scripts/install-deps.sh --test)" curl wrk redis-cli timeout jq
list_strategies

# The binary runs from a copy that the test replaces, as a package upgrade replaces the file.
mkdir -p "$WORK/bin"
SRV=$WORK/bin/srv
cp "$SRV_BUILT" "$SRV"
CONFIG=$WORK/srv.yaml
PID_FILE=$WORK/srv.pid

HTTP_PORT=$(free_port)
RESP_PORT=$(free_port)
ADMIN_PORT=$(free_port)

write_config() {
  cat >"$CONFIG" <<EOF
strategy: $1
pid_file: $PID_FILE
prefork: {workers: 8}
threadpool: {threads: 8}
admin: {listen: 127.0.0.1:$ADMIN_PORT}
listeners:
  - {listen: 127.0.0.1:$HTTP_PORT, protocol: http}
  - {listen: 127.0.0.1:$RESP_PORT, protocol: resp}
EOF
}

# replace_binary FILE: installs FILE as the binary through a rename, as dpkg does.
replace_binary() {
  cp "$1" "$SRV.new"
  chmod +x "$SRV.new"
  mv -f "$SRV.new" "$SRV"
}

master_pid() { cat "$PID_FILE" 2>/dev/null || true; }

# wait_gone PID: PID has exited within 15 s (waited for if it is this shell's child).
wait_gone() {
  local pid=$1 deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS <= deadline)); do
    # Our own child stays a zombie until waited for, and kill -0 still finds it.
    if [[ $pid == "$SRV_PID" ]] && ! ps -o stat= -p "$pid" | grep -qv Z; then break; fi
    sleep 0.05
  done
  if [[ $pid == "$SRV_PID" ]]; then
    local rc=0
    wait "$pid" || rc=$?
    forget_pid "$pid"
    return "$rc"
  fi
  ! kill -0 "$pid" 2>/dev/null
}

# upgrade_to STRATEGY: writes the config, `srv -s upgrade`, waits for the pid file to name a new
# master and for the old one to exit. Sets NEW_PID; returns 1 on failure. (Not in a $(...)
# subshell: the first master is this shell's child, to be waited for here.)
NEW_PID=""
upgrade_to() {
  local old new deadline=$((SECONDS + 10))
  old=$(master_pid)
  write_config "$1"
  timeout "$kClientTimeout" "$SRV" -c "$CONFIG" -s upgrade >/dev/null || return 1
  while new=$(master_pid) && [[ -z $new || $new == "$old" ]]; do
    ((SECONDS > deadline)) && return 1
    sleep 0.05
  done
  started_pids+=("$new")
  NEW_PID=$new
  wait_gone "$old"
}

resp() { timeout "$kClientTimeout" redis-cli -p "$RESP_PORT" "$@"; }
status_of() { curl -sf "http://127.0.0.1:$ADMIN_PORT/status" | jq -r "$1"; }

first=$(echo "$strategies" | head -n1)
write_config "$first"
if ! start_srv upgrade -c "$CONFIG"; then
  harness_finish
  exit 1
fi

# --- one upgrade per strategy under wrk's load --------------------------------------------------
n=$(echo "$strategies" | wc -l)
duration=$((n * 2 + 3))
wrk_start "$duration" "http://127.0.0.1:$HTTP_PORT/"
sleep 1
upgrades=0
for s in $strategies; do
  if upgrade_to "$s"; then
    upgrades=$((upgrades + 1))
    ok "upgrade to $s: new master $NEW_PID serves, the old one exited"
  else
    not_ok "upgrade to $s: the pid file names a new master and the old one exits"
    tail -n 15 "$SRV_LOG" | diag
  fi
  sleep 1
done
wrk_check "wrk through $upgrades binary upgrades"
last=$(echo "$strategies" | tail -n1)
check "/status names the last master and its strategy ($last)" \
  test "$(status_of '"\(.pid) \(.strategy)"')" = "$(master_pid) $last"
check "every old master said it stopped" test "$(grep -c '\] stopped$' "$SRV_LOG")" -ge "$upgrades"

# --- what is not carried over: the keyspace (the README says so) --------------------------------
resp set before-upgrade 1 >/dev/null
upgrade_to "$last" || true
check "the keyspace starts empty after an upgrade, as documented" \
  test "$(resp exists before-upgrade)" = 0

# --- a new binary that cannot start leaves the old master serving --------------------------------
printf '#!/bin/sh\necho "srv: a broken build" >&2\nexit 3\n' >"$WORK/broken"
replace_binary "$WORK/broken"
serving=$(master_pid)
kill -USR2 "$serving"
check "a broken binary: 'upgrade failed' logged with its exit status" timeout 10 bash -c \
  "until grep -q 'upgrade failed: the new master (pid [0-9]*) exited with status 3; this master goes on serving' '$SRV_LOG'; do sleep 0.05; done"
check "... the old master goes on serving" curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" -o /dev/null
check "... and the pid file still names it" test "$(master_pid)" = "$serving"

replace_binary "$SRV_BUILT"
echo "strategy: [broken" >"$CONFIG"
kill -USR2 "$serving"
check "a broken config: the new master exits 2 and the old one says so" timeout 10 bash -c \
  "until grep -q 'upgrade failed: the new master (pid [0-9]*) exited with status 2' '$SRV_LOG'; do sleep 0.05; done"
check "... and goes on serving" curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" -o /dev/null

# --- and the repaired binary upgrades ----------------------------------------------------------
if upgrade_to epoll; then
  ok "after the failures, an upgrade with a good binary and config succeeds (pid $NEW_PID)"
else
  not_ok "after the failures, an upgrade with a good binary and config succeeds"
fi

# --- srv -s stop ends the last master and its pid file ----------------------------------------
final=$(master_pid)
timeout "$kClientTimeout" "$SRV" -c "$CONFIG" -s stop >/dev/null
check "srv -s stop: the last master exits" wait_gone "$final"
check "and removes its pid_file" test ! -e "$PID_FILE"
grep -vE "upgrade failed: |a broken build|cannot parse|Config error" "$SRV_LOG" >"$WORK/rest.log" || true
check "no other error in the log" env SRV_LOG="$WORK/rest.log" bash -c \
  "! grep -E '\[error\]|\[critical\]|Sanitizer|runtime error:|killed by signal' \"\$SRV_LOG\""

harness_finish
