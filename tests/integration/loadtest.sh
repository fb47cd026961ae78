#!/usr/bin/env bash
# srv-loadtest against the real srv, over loopback only.
#
#   tests/integration/loadtest.sh [path/to/srv] [path/to/srv-loadtest]
#
# For every strategy and every protocol: a short closed-loop run, a pipelined one and an open-loop
# one must verify every reply with zero errors. A workload against the wrong protocol must fail
# with "bad reply" and exit 1; bad options exit 2 with a message. Then a tiny
# `srv-loadtest compare` matrix (every strategy, 1 and 8 connections, 1 s each) must write
# results.json with zero errors, results.md, index.html and valid SVG and PNG plots.
# Needs jq and xmllint (scripts/install-deps.sh --test). Every run is bounded by timeout(1).

set -euo pipefail

SRV=${1:-build/bin/srv}
LOADTEST=${2:-$(dirname "$SRV")/srv-loadtest}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kRunTimeout=30       # seconds for one srv-loadtest run (each lasts under a second)
readonly kCompareTimeout=300  # seconds for the tiny compare matrix

harness_init srv-loadtest-integration
require_tools --hint "(scripts/install-deps.sh --test)" jq xmllint timeout
if [[ ! -x $LOADTEST ]]; then
  not_ok "srv-loadtest binary '$LOADTEST' exists and is executable"
  harness_finish || exit 1
fi
list_strategies

# load NAME ARGS...: srv-loadtest --json against $SRV_PORT; leaves the JSON in $WORK/NAME.json.
load() {
  local name=$1
  shift
  timeout "$kRunTimeout" "$LOADTEST" --target "127.0.0.1:$SRV_PORT" --json -d 0.5 --warmup 0.1 \
    "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
}

# verified NAME ARGS...: the run exits 0, counted replies and no error.
verified() {
  local name=$1
  if ! load "$@"; then
    echo "srv-loadtest exited $?:" | diag
    diag <"$WORK/$name.err"
    return 1
  fi
  local requests errors
  requests=$(jq .requests "$WORK/$name.json")
  errors=$(jq .errors "$WORK/$name.json")
  if ((requests == 0 || errors != 0)); then
    echo "requests=$requests errors=$errors" | diag
    diag <"$WORK/$name.err"
    return 1
  fi
}

for strategy in $strategies; do
  for protocol in echo http resp; do
    if ! start_srv "$strategy-$protocol" --strategy "$strategy" --protocol "$protocol" \
      --listen 127.0.0.1:0; then
      not_ok "$strategy/$protocol: srv starts"
      continue
    fi
    tag="$strategy/$protocol"
    check "$tag: 16 connections, every reply verified" \
      verified "$strategy-$protocol-closed" -P "$protocol" -c 16
    case $protocol in
      echo) extra=(--size 3000) ;;
      http) extra=(--size 700) ;;  # POST /echo, the body must come back
      resp) extra=(--mix set:1,get:2 --keys 50) ;;
    esac
    check "$tag: pipeline 8 (${extra[*]}), every reply verified" \
      verified "$strategy-$protocol-pipelined" -P "$protocol" -c 4 --pipeline 8 "${extra[@]}"
    check "$tag: open loop at 2000 req/s, every reply verified" \
      verified "$strategy-$protocol-open" -P "$protocol" -c 4 --rate 2000
    check "$tag: srv exits 0 on SIGTERM" stop_srv
  done
done

# A protocol described only by a request and its reply (as for a plugin): echo's line.
if start_srv template --strategy epoll --protocol echo --listen 127.0.0.1:0; then
  check "template protocol: every reply verified" verified template -P template -c 4 \
    --pipeline 4 --request 'PING\r\n' --expect 'PING\r\n'
  stop_srv || true
fi

# Wrong replies are errors: an http workload against echo gets its own request back.
if start_srv wrong --strategy epoll --protocol echo --listen 127.0.0.1:0; then
  rc=0
  load wrong -P http -c 2 || rc=$?
  check "http workload against an echo server exits 1" test "$rc" -eq 1
  check "... and reports bad replies" \
    grep -q 'bad reply: .*(first: http: not a status line' "$WORK/wrong.err"
  check "... counted in the JSON" test "$(jq '.error_kinds["bad reply"]' "$WORK/wrong.json")" -gt 0
  stop_srv || true
fi

# Bad options: exit 2 and say what is wrong.
expect_usage_error() {
  local want=$1 rc=0
  shift
  "$LOADTEST" "$@" >/dev/null 2>"$WORK/usage.err" || rc=$?
  if ((rc != 2)) || ! grep -qF -- "$want" "$WORK/usage.err"; then
    echo "exit $rc, stderr:" | diag
    diag <"$WORK/usage.err"
    return 1
  fi
}
check "unknown protocol: exit 2, names the known ones" \
  expect_usage_error "unknown 'gopher' (known: echo, http, resp, template)" -P gopher
check "bad duration: exit 2" expect_usage_error "--duration: unknown unit 'x'" -d 5x
check "bad target: exit 2" expect_usage_error "--target: expected HOST:PORT" --target nowhere
check "bad mix: exit 2" expect_usage_error "--mix: unknown command 'del'" -P resp --mix del:1

# The tiny compare matrix: every strategy, 1 and 8 connections.
report=$WORK/compare
compare_rc=0
timeout "$kCompareTimeout" "$LOADTEST" compare --srv "$SRV" --out "$report" -c 1,8 \
  --pipeline 1 -d 1 --warmup 0.2 >"$WORK/compare.out" 2>"$WORK/compare.err" || compare_rc=$?
check "compare exits 0" test "$compare_rc" -eq 0
((compare_rc == 0)) || diag <"$WORK/compare.err"
expected_points=$(($(wc -w <<<"$strategies") * 2))
check "results.json has every strategy x 2 points" \
  test "$(jq '.points | length' "$report/results.json")" -eq "$expected_points"
check "every point ran with zero errors and measured the server" \
  test "$(jq '[.points[] | select(.skipped == null and .run.errors == 0 and .run.requests > 0
              and .server.cpu_seconds > 0 and .server.peak_processes >= 1)] | length' \
          "$report/results.json")" -eq "$expected_points"
check "results.md has a row per point" \
  test "$(grep -c '^| [a-z]' "$report/results.md")" -eq $((expected_points + 1))
check "the table went to stdout too" grep -q '^| strategy |' "$WORK/compare.out"
for metric in throughput p99 memory cpu; do
  svg=$report/plots/${metric}_p1_s0.svg
  png=$report/plots/${metric}_p1_s0.png
  check "$metric plot: valid SVG" xmllint --noout "$svg"
  check "$metric plot: an <svg> root" grep -q '<svg' "$svg"
  check "$metric plot: a PNG" test "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = \
    "89504e470d0a1a0a"
  check "$metric plot: shown by index.html" grep -q "plots/${metric}_p1_s0.svg" "$report/index.html"
done

harness_finish
