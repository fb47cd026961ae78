#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests, the conformance suite
# (every strategy x every protocol, real sockets), the same suite under ASan+UBSan, the threaded
# strategies under ThreadSanitizer, the integration tests with real clients, and a short
# libFuzzer run of each parser.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
scripts/install-deps.sh --test

# RespReference compares the resp reply tables with a redis-server it starts: in CI, a missing
# redis-server fails that test instead of skipping it.
export SRV_RESP_REFERENCE_REQUIRED=1

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)"; }

step "build (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSRV_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

step "unit tests"
ctest --test-dir build -L unit --output-on-failure -j"$jobs"

step "conformance suite: every strategy x every protocol"
# Twice as many at once as there are cores: these tests mostly wait on timers and sockets.
ctest --test-dir build -L conformance --output-on-failure -j"$((2 * jobs))"

step "ASan+UBSan build of the whole suite"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSRV_WERROR=ON -DSRV_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Under ASan a test process takes about 0.3 s to start: ctest's process per test spent 4 minutes
# starting 1600 of them. One process per unit-test binary runs the same tests in under a minute.
build-asan/bin/srv_unit_tests --gtest_brief=1 &
unit_pid=$!
build-asan/bin/srv_loadtest_tests --gtest_brief=1
wait "$unit_pid"
ctest --test-dir build-asan -L conformance --output-on-failure -j"$((2 * jobs))"

step "ThreadSanitizer build: the strategies that run handlers on several threads"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSRV_WERROR=ON \
  -DSRV_SANITIZE_THREAD=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target srv srv_conformance_tests
tsan_reports=$(mktemp -d)
# A race kills srv at once (the test then fails); the reports are also kept, and any is fatal.
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$tsan_reports/tsan" \
  ctest --test-dir build-tsan -R 'ConformanceTest\..*/(thread|threadpool)_' --output-on-failure \
  -j"$jobs"
# Blocking lists and pub/sub: handlers on several threads serving and waking each other.
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$tsan_reports/tsan" \
  tests/integration/blocking.sh build-tsan/bin/srv thread threadpool
if compgen -G "$tsan_reports/tsan*" >/dev/null; then
  cat "$tsan_reports"/tsan*
  echo "ThreadSanitizer reported the races above" >&2
  exit 1
fi
rm -rf "$tsan_reports"

step "integration: real clients (nc, socat, curl, wrk, redis-cli, redis-benchmark, redis-py, openssl, promtool, srv-loadtest)"
# Two lanes at once, each script's output shown whole when its lane ends: they wait on sockets
# and timers more than they compute, and each picks its own ports.
lane() {
  local log=$1 status=0
  shift
  for script in "$@"; do
    tests/integration/"$script" build/bin/srv $([[ $script == loadtest.sh ]] && echo build/bin/srv-loadtest) \
      >>"$log" 2>&1 || { echo "FAILED: tests/integration/$script" >>"$log"; status=1; }
  done
  return "$status"
}
lanes=$(mktemp -d)
lane "$lanes/a" http.sh blocking.sh reload.sh upgrade.sh run.sh metrics.sh logs.sh &
lane_a=$!
lane_b_status=0
lane "$lanes/b" tls.sh loadtest.sh resp.sh jobqueue.sh || lane_b_status=1
lane_a_status=0
wait "$lane_a" || lane_a_status=1
cat "$lanes/a" "$lanes/b"
rm -rf "$lanes"
((lane_a_status == 0 && lane_b_status == 0)) || { echo "integration tests failed (above)" >&2; exit 1; }

step "reliability, quick tier: floods, descriptor exhaustion, slow clients, storms, kills (every strategy)"
tests/reliability/run.sh build/bin/srv --quick

step "Redis 7.0.15's own Tcl tests of lists against resp (a few seconds)"
tests/redis-suite/run.sh build/bin/srv

step "fuzzing each parser and the TLS transport briefly (longer by hand: tests/fuzz/run.sh 600)"
tests/fuzz/run.sh "${SRV_FUZZ_SECONDS:-20}"
