#!/usr/bin/env bash
# The job queue example (examples/jobqueue/) against srv under every strategy, with AUTH.
#
#   tests/integration/jobqueue.sh [path/to/srv]      (default: build/bin/srv)
#
# For every strategy `srv --list-strategies` prints: starts srv with requirepass, four workers
# (python3-redis, password from the environment), then the master with kTasks tasks; SIGKILLs
# one worker while it holds a task in its processing list and checks that the master recovers
# that task, that every task gets exactly one correct result, that the surviving workers exit on
# the pub/sub "stop", and that srv stops cleanly. Also: a worker without the password is
# refused. Needs Debian's python3 with python3-redis (/usr/bin/python3) and redis-cli. Every wait
# is bounded; about 3 s a strategy.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXAMPLE=$(cd "$SCRIPT_DIR/../../examples/jobqueue" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kPython=/usr/bin/python3  # Debian's, which python3-redis is installed for
readonly kPassword=jobq-test-password
readonly kWorkers=4
readonly kTasks=40
readonly kWorkMs=100       # long enough that the worker is killed mid-task
# A dead worker is noticed within this (+ the master's reap period); a live one refreshes it
# every third of it, so a loaded machine must stall it for a second to fake a death.
readonly kHeartbeatMs=1500
readonly kMasterTimeout=30
readonly kWaitTimeout=10   # seconds for workers to register, a task to be taken, an exit

harness_init srv-jobqueue-integration
require_tools --hint "(scripts/install-deps.sh --test)" redis-cli timeout awk sort uniq
if ! "$kPython" -c 'import redis' 2>/dev/null; then
  not_ok "$kPython has the redis module (scripts/install-deps.sh --test: python3-redis)"
  harness_finish || exit 1
fi
export JOBQ_HOST=127.0.0.1

cli() {
  timeout 5 redis-cli -h 127.0.0.1 -p "$SRV_PORT" --no-auth-warning -a "$kPassword" "$@"
}

# wait_for WANT ARGS...: polls redis-cli ARGS until it prints WANT (kWaitTimeout at most).
wait_for() {
  local want=$1 got="" deadline=$((SECONDS + kWaitTimeout))
  shift
  while ((SECONDS <= deadline)); do
    got=$(cli "$@" 2>&1) || true
    [[ $got == "$want" ]] && return 0
    sleep 0.02
  done
  printf 'redis-cli %s: want %q, last got %q\n' "$*" "$want" "$got" | diag
  return 1
}

# wait_exit PID: PID exits within kWaitTimeout with status 0 (else it is killed).
wait_exit() {
  local pid=$1 deadline=$((SECONDS + kWaitTimeout)) rc=0
  while kill -0 "$pid" 2>/dev/null && ((SECONDS <= deadline)); do sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "pid $pid still running ${kWaitTimeout}s later; killing it" | diag
    kill -KILL "$pid" 2>/dev/null || true
    rc=1
  fi
  wait "$pid" || rc=$?
  forget_pid "$pid"
  return "$rc"
}

# every_task_once FILE: the master's output has one result line for each of tasks 1..kTasks and
# none twice, and its summary says every value was right and no task ran twice (no duplicate
# result dropped).
every_task_once() {
  local out=$1 ids
  ids=$(sed -n 's/^result task=\([0-9]*\) .*/\1/p' "$out" | sort -n | tr '\n' ' ')
  if [[ $ids != "$(seq 1 "$kTasks" | tr '\n' ' ')" ]] ||
    ! grep -q "^done: $kTasks tasks .* 0 duplicate results dropped; 0 wrong values" "$out"; then
    sed -n 's/^result task=\([0-9]*\) .*/\1/p' "$out" | sort -n | uniq -c |
      awk '$1 != 1 { print "task " $2 " done " $1 " times" } END { print NR " distinct" }' | diag
    grep -E '^(duplicate|done|gave up)' "$out" | diag
    return 1
  fi
}

# recovered_elsewhere FILE ID: the master recovered task ID from w1 and another worker did it.
recovered_elsewhere() {
  local out=$1 id=$2
  if ! grep -q "^recovered task $id from dead worker w1$" "$out" ||
    ! grep -q "^result task=$id worker=w[2-9] " "$out"; then
    grep -E "^(recovered|worker|result task=$id )" "$out" | diag
    return 1
  fi
}

strategy_run() {
  local strategy=$1 extra=() i pids=() master_pid task id
  # prefork and threadpool serve a connection per worker until it closes: each job-queue worker
  # holds up to 3 (BLMOVE, heartbeat, subscription), the master 1, redis-cli 1.
  case $strategy in
    prefork) extra=(--workers 32) ;;
    threadpool) extra=(--threads 32) ;;
  esac
  if ! start_srv "jq-$strategy" -c "$WORK/jobq.yaml" --strategy "$strategy" \
    "${extra[@]+"${extra[@]}"}"; then
    not_ok "$strategy: starts with requirepass"
    return
  fi
  export JOBQ_PORT=$SRV_PORT JOBQ_PASSWORD=$kPassword
  for ((i = 1; i <= kWorkers; i++)); do
    "$kPython" "$EXAMPLE/worker.py" --id "w$i" --heartbeat-ms "$kHeartbeatMs" --poll 0.5 \
      >"$WORK/$strategy-w$i.out" 2>&1 &
    pids+=($!)
    started_pids+=($!)
  done
  check "$strategy: $kWorkers workers register" wait_for "$kWorkers" LLEN jq:workers
  "$kPython" "$EXAMPLE/master.py" --tasks "$kTasks" --work-ms "$kWorkMs" --reap-every 0.2 \
    --timeout "$kMasterTimeout" >"$WORK/$strategy-master.out" 2>&1 &
  master_pid=$!
  started_pids+=("$master_pid")
  unset JOBQ_PASSWORD

  # w1 holds a task: SIGKILL it mid-task; the task it held stays in its processing list (read
  # after the kill: under load w1 may have moved on to its next task before the signal).
  if wait_for 1 LLEN jq:processing:w1; then
    kill -KILL "${pids[0]}"
    wait "${pids[0]}" 2>/dev/null || true
    forget_pid "${pids[0]}"
    task=$(cli LINDEX jq:processing:w1 0) || true
    id=$(sed -n 's/.*"id": \([0-9]*\).*/\1/p' <<<"$task")
    check "$strategy: w1 SIGKILLed holding task ${id:-(none)}" test -n "$id"
  else
    not_ok "$strategy: w1 takes a task"
    id=none
  fi
  check "$strategy: the master finishes (exit 0)" wait_exit "$master_pid"
  check "$strategy: all $kTasks tasks done exactly once, correct values" \
    every_task_once "$WORK/$strategy-master.out"
  check "$strategy: the killed worker's task $id was recovered and done by another" \
    recovered_elsewhere "$WORK/$strategy-master.out" "$id"
  check "$strategy: nothing left in w1's processing list" wait_for 0 LLEN jq:processing:w1
  for ((i = 2; i <= kWorkers; i++)); do
    check "$strategy: w$i exits 0 on the pub/sub stop" wait_exit "${pids[$((i - 1))]}"
  done
  check "$strategy: the workers deregistered, the dead one was forgotten" \
    wait_for 0 LLEN jq:workers
  check "$strategy: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
  check "$strategy: the log has no error or sanitizer report" clean_log
}

# A worker without the password gets NOAUTH and exits with an error.
auth_refused() {
  local rc=0 out
  out=$(JOBQ_PORT=$SRV_PORT timeout "$kWaitTimeout" "$kPython" "$EXAMPLE/worker.py" --id nopass \
    2>&1) || rc=$?
  if ((rc == 0 || rc == 124)) || [[ $out != *"Authentication required"* ]]; then
    echo "exit $rc: $(tail -n 1 <<<"$out")" | diag
    return 1
  fi
}

cat >"$WORK/jobq.yaml" <<EOF
listeners:
  - listen: 127.0.0.1:0
    protocol: {name: resp, options: {requirepass: "$kPassword"}}
EOF

list_strategies
# shellcheck disable=SC2086 # word splitting of the name list is intended
for strategy in $strategies; do
  strategy_run "$strategy"
done
if start_srv jq-auth -c "$WORK/jobq.yaml" --strategy epoll; then
  check "a worker without the password is refused (NOAUTH)" auth_refused
  check "stops cleanly after the refusal" stop_srv
else
  not_ok "starts for the AUTH check"
fi

harness_finish
