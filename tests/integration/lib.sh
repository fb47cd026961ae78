# shellcheck shell=bash
# The harness shared by the integration scripts (run.sh, http.sh, resp.sh): sourced, not run.
#
#   set -euo pipefail
#   SRV=${1:-build/bin/srv}
#   SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   source "$SCRIPT_DIR/lib.sh"
#   harness_init srv-foo           # $WORK (a temp dir), cleanup on exit/interrupt, $SRV executable
#   require_tools --hint "(how to install)" nc timeout ...
#   ... ok / not_ok / check / diag, start_srv / stop_srv, list_strategies ...
#   harness_finish                 # "N passed, M failed" alone on the last line; exits 0 or 1
#
# Every wait is bounded. Functions that report failure by returning 1 (start_srv, stop_srv) are
# meant for `if` or `check`, where set -e does not end the script.

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  echo "${BASH_SOURCE[0]} is sourced by the integration scripts, not run" >&2
  exit 2
fi

readonly kStartTimeout=10  # seconds for srv to print its listening line
readonly kStopTimeout=5    # seconds for srv to exit after SIGTERM

passed=0
failed=0
started_pids=()
WORK=""

ok() {
  echo "ok - $*"
  passed=$((passed + 1))
}
not_ok() {
  echo "not ok - $*"
  failed=$((failed + 1))
}
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() {
  local description=$1
  shift
  if "$@"; then ok "$description"; else not_ok "$description"; fi
}
# Indented diagnostics under a failed check.
diag() { sed 's/^/    # /' >&2; }

# harness_finish: prints the `N passed, M failed` line; returns 1 if any check failed, else 0.
# The last command of a script, so that its status is the script's exit status.
harness_finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
}

cleanup() {
  local pid
  for pid in "${started_pids[@]+"${started_pids[@]}"}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.2
  for pid in "${started_pids[@]+"${started_pids[@]}"}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
}

# harness_init PREFIX: makes $WORK ($TMPDIR/PREFIX.XXXXXX), which goes on exit together with
# every srv still running; ends the script with one failed check unless $SRV is executable.
harness_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  if [[ ! -x ${SRV:?set SRV before harness_init} ]]; then
    not_ok "srv binary '$SRV' exists and is executable"
    harness_finish || exit 1
  fi
}

# require_tools [--hint TEXT] TOOL...: ends the script with one failed check at the first TOOL
# not on PATH; TEXT (how to install it) follows the check's description.
require_tools() {
  local hint="" tool
  if [[ ${1-} == --hint ]]; then
    hint=" $2"
    shift 2
  fi
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      not_ok "required tool '$tool' is installed$hint"
      harness_finish || exit 1
    fi
  done
}

# list_strategies: sets $strategies to the names `srv --list-strategies` prints, one per line;
# a failed check if there are none.
strategies=""
list_strategies() {
  if ! strategies=$(timeout 10 "$SRV" --list-strategies | awk '{print $1}') || [[ -z $strategies ]]
  then
    not_ok "srv --list-strategies prints the strategies"
  fi
}

# ---------------------------------------------------------------------------------------------
# Running a server

SRV_PID=""
SRV_PORT=""
SRV_LOG=""

# start_srv NAME ARGS...: starts srv in the background (stdout to $WORK/NAME.stdout, stderr to
# $WORK/NAME.log) and waits for its "listening on 127.0.0.1:PORT" line. Sets SRV_PID, SRV_PORT,
# SRV_LOG; returns 1 (after diagnostics, with srv gone) on failure.
start_srv() {
  local name=$1
  shift
  SRV_LOG=$WORK/$name.log
  SRV_PORT=""
  : >"$SRV_LOG"  # exists before the first poll below, whenever the child opens it
  "$SRV" "$@" >"$WORK/$name.stdout" 2>"$SRV_LOG" &
  SRV_PID=$!
  started_pids+=("$SRV_PID")
  local deadline=$((SECONDS + kStartTimeout))
  while ((SECONDS <= deadline)); do
    SRV_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$SRV_LOG" | head -n1)
    [[ -n $SRV_PORT ]] && return 0
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
      echo "srv exited before listening:" | diag
      diag <"$SRV_LOG"
      wait "$SRV_PID" 2>/dev/null || true
      forget_pid "$SRV_PID"
      return 1
    fi
    sleep 0.05
  done
  echo "no 'listening on' line within ${kStartTimeout}s:" | diag
  diag <"$SRV_LOG"
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  forget_pid "$SRV_PID"
  return 1
}

# forget_pid PID: PID has been waited for; cleanup no longer signals it.
forget_pid() {
  local pid=$1 kept=() p
  for p in "${started_pids[@]+"${started_pids[@]}"}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  started_pids=("${kept[@]+"${kept[@]}"}")
}

# stop_srv: SIGTERM to $SRV_PID, then waits (bounded) for the exit; returns 0 if srv exited with
# status 0.
stop_srv() {
  local pid=$SRV_PID
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + kStopTimeout))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS <= deadline)); do sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "still running ${kStopTimeout}s after SIGTERM; killing" | diag
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
    return 1
  fi
  local rc=0
  wait "$pid" || rc=$?
  forget_pid "$pid"
  if ((rc != 0)); then
    echo "exit status $rc after SIGTERM; log:" | diag
    tail -n 20 "$SRV_LOG" | diag
    return 1
  fi
}

# free_port: a TCP port on 127.0.0.1 that is free right now (the kernel's pick), for a config
# that must name its port in advance (a reload keeps a socket by its configured address).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wrk_start SECONDS URL: wrk -t2 -c8 against URL for SECONDS in the background (bounded by
# SECONDS + 20 s), its report in $WORK/wrk.out; sets WRK_PID for wrk_check.
WRK_PID=""
wrk_start() {
  timeout $(($1 + 20)) wrk -t2 -c8 -d"$1s" "$2" >"$WORK/wrk.out" 2>&1 &
  WRK_PID=$!
}

# wrk_check DESCRIPTION: waits for wrk_start's run; ok if it served over 1000 requests with no
# socket error and no non-2xx answer (the count goes into the line), else its report.
wrk_check() {
  wait "$WRK_PID" || true
  local served
  served=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
  if ! grep -q "Socket errors" "$WORK/wrk.out" && ! grep -q "Non-2xx" "$WORK/wrk.out" &&
    [[ ${served:-0} -gt 1000 ]]; then
    ok "$1: $served requests, none failed"
  else
    not_ok "$1: no failed request"
    diag <"$WORK/wrk.out"
  fi
}

# clean_log: the server's log ($SRV_LOG, every process of it) reports no error, crash or
# sanitizer finding.
clean_log() {
  if grep -E '\[error\]|\[critical\]|AddressSanitizer|ThreadSanitizer|runtime error:|LeakSanitizer|killed by signal' \
    "$SRV_LOG" >"$WORK/log-problems"; then
    head -n 10 "$WORK/log-problems" | diag
    return 1
  fi
}
