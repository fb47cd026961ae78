#!/usr/bin/env bash
# Builds every libFuzzer target with clang (ASan + UBSan) in build-fuzz/ and runs each one.
#
#   tests/fuzz/run.sh [SECONDS]      (default 20 seconds per fuzzer)
#
# A fuzzer NAME starts from the seeds in tests/fuzz/corpus/NAME/ and uses tests/fuzz/NAME.dict
# when they exist; what it finds goes to a scratch corpus that is thrown away. A crash, sanitizer
# report or broken property leaves its input as build-fuzz/artifacts/NAME-crash-* and fails the
# run. Prints `ok - ...` / `not ok - ...` per fuzzer and `N passed, M failed` last; exits 1 on
# failure. Needs clang and libclang-rt-14-dev (scripts/install-deps.sh --test).

set -euo pipefail

SECONDS_PER_FUZZER=${1:-20}
if ! [[ $SECONDS_PER_FUZZER =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-fuzz
WORK=$(mktemp -d "${TMPDIR:-/tmp}/srv-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0

if ! command -v clang++ >/dev/null; then
  echo "not ok - clang++ is installed (scripts/install-deps.sh --test)"
  echo "0 passed, 1 failed"
  exit 1
fi

if ! cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSRV_FUZZ=ON \
  -DSRV_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/configure.log" 2>&1 ||
  ! cmake --build "$BUILD" --target srv_fuzzers -j "$(nproc)" >"$WORK/build.log" 2>&1; then
  echo "not ok - the fuzzers build"
  tail -n 40 "$WORK/configure.log" "$WORK/build.log" 2>/dev/null | sed 's/^/    # /'
  echo "0 passed, 1 failed"
  exit 1
fi

mkdir -p "$BUILD/artifacts"
shopt -s nullglob
fuzzers=("$BUILD"/fuzz/*)
if ((${#fuzzers[@]} == 0)); then
  echo "not ok - at least one fuzzer was built"
  echo "0 passed, 1 failed"
  exit 1
fi

# run_fuzzer PATH: runs one fuzzer; its verdict goes to $WORK/NAME.result (first line ok/not ok).
run_fuzzer() {
  local fuzzer=$1 name corpus log runs
  name=$(basename "$fuzzer")
  corpus=$WORK/corpus-$name
  mkdir -p "$corpus"
  local args=(-max_total_time="$SECONDS_PER_FUZZER" -timeout=10 -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$name-" "$corpus")
  [[ -d $ROOT/tests/fuzz/corpus/$name ]] && args+=("$ROOT/tests/fuzz/corpus/$name")
  [[ -f $ROOT/tests/fuzz/$name.dict ]] && args+=(-dict="$ROOT/tests/fuzz/$name.dict")
  log=$WORK/$name.log
  # The fuzzer's own deadline is -max_total_time; `timeout` only guards against a hang in
  # start-up or shutdown.
  if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    timeout $((SECONDS_PER_FUZZER + 120)) "$fuzzer" "${args[@]}" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    echo "ok - $name: ${runs:-?} inputs in ${SECONDS_PER_FUZZER}s without a failure" \
      >"$WORK/$name.result"
  else
    {
      echo "not ok - $name: failed (inputs saved as $BUILD/artifacts/$name-*)"
      grep -E "ERROR|runtime error|$name:|SUMMARY|Test unit written" "$log" | head -n 20 |
        sed 's/^/    # /'
      tail -n 30 "$log" | sed 's/^/    # /'
    } >"$WORK/$name.result"
  fi
}

# As many fuzzers at once as there are cores: each is one single-threaded process.
names=()
for fuzzer in "${fuzzers[@]}"; do
  [[ -f $fuzzer && -x $fuzzer ]] || continue
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  run_fuzzer "$fuzzer" &
  names+=("$(basename "$fuzzer")")
done
wait
for name in "${names[@]}"; do
  cat "$WORK/$name.result"
  if head -n1 "$WORK/$name.result" | grep -q '^ok'; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
