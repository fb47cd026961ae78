#!/usr/bin/env bash
# End-to-end checks of `srv --protocol http` with real clients (curl, wrk, nc) over loopback.
#
#   tests/integration/http.sh [path/to/srv]      (default: build/bin/srv)
#
# For every strategy that `srv --list-strategies` prints: starts `srv --strategy S --protocol http
# --listen 127.0.0.1:0` and checks the resources, keep-alive (curl reusing one connection, also
# for HTTP/1.0 with Connection: keep-alive), request bodies (Content-Length and chunked), HEAD,
# 404/405/501/413, pipelining under load (wrk with loadtest/pipeline.lua, depth 16) and
# malformed or smuggling requests sent with nc (400, then the connection closes). A second server
# per strategy, started from a config file with protocol options, checks the header timeout (408)
# and, where the strategy refuses over capacity, the 503 refusal.
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last; exits 1 on failure.
# Every wait is bounded.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=20 # seconds for any one client command
readonly kWrkSeconds=3

harness_init srv-http
require_tools --hint "(scripts/install-deps.sh --test)" curl wrk nc timeout cmp head

url() { echo "http://127.0.0.1:$SRV_PORT$1"; }

# ---------------------------------------------------------------------------------------------
# curl

# expect_text DESCRIPTION WANT GOT
expect_text() {
  if [[ $3 == "$2" ]]; then return 0; fi
  printf '%s: want %q, got %q\n' "$1" "$2" "$3" | diag
  return 1
}

# contains FILE PATTERN...: every fixed string occurs in FILE.
contains() {
  local file=$1 pattern
  shift
  for pattern in "$@"; do
    if ! grep -qiF -- "$pattern" "$file"; then
      echo "missing '$pattern' in:" | diag
      head -c 2000 "$file" | diag
      return 1
    fi
  done
}

curl_hello() {
  local body
  body=$(curl -sS --max-time "$kClientTimeout" "$(url /)") || return 1
  expect_text "GET / body" "Hello, World!" "$body"
}

curl_healthz() {
  local code
  code=$(curl -sS --max-time "$kClientTimeout" -o /dev/null -w '%{http_code}' "$(url /healthz)")
  expect_text "GET /healthz status" 200 "$code"
}

# Two URLs in one invocation: the second request must reuse the first connection.
curl_keep_alive() {
  local out=$WORK/keepalive.txt
  curl -sv --max-time "$kClientTimeout" "$(url /)" "$(url /healthz)" >"$out" 2>&1 || return 1
  contains "$out" "Re-using existing connection" "Hello, World!" "< Server: srv" "< Date: "
}

curl_http10_close() {
  local out=$WORK/http10.txt
  curl -sv --http1.0 --max-time "$kClientTimeout" "$(url /)" "$(url /healthz)" >"$out" 2>&1 ||
    return 1
  contains "$out" "> GET / HTTP/1.0" "< Connection: close" "Hello, World!" || return 1
  if grep -q "Re-using existing connection" "$out"; then
    echo "HTTP/1.0 without keep-alive reused a connection" | diag
    return 1
  fi
}

curl_http10_keep_alive() {
  local out=$WORK/http10-ka.txt
  curl -sv --http1.0 -H 'Connection: keep-alive' --max-time "$kClientTimeout" "$(url /)" \
    "$(url /healthz)" >"$out" 2>&1 || return 1
  contains "$out" "< Connection: keep-alive" "Re-using existing connection" "Hello, World!"
}

# curl_echo FILE [CURL ARGS...]: POST /echo with FILE as the body; the answer is FILE.
curl_echo() {
  local file=$1 out=$WORK/echo-out.bin
  shift
  curl -sS --max-time "$kClientTimeout" --data-binary "@$file" "$@" -o "$out" "$(url /echo)" ||
    return 1
  if ! cmp -s "$file" "$out"; then
    echo "sent $(wc -c <"$file") bytes, got $(wc -c <"$out") back" | diag
    return 1
  fi
}

curl_echo_text() {
  local body
  body=$(curl -sS --max-time "$kClientTimeout" -d 'hello, srv' "$(url /echo)") || return 1
  expect_text "POST /echo -d" "hello, srv" "$body"
}

# curl_status WANT [CURL ARGS...] PATH
curl_status() {
  local want=$1 code
  shift
  local path=${*: -1}
  code=$(curl -sS --max-time "$kClientTimeout" -o /dev/null -w '%{http_code}' \
    "${@:1:$#-1}" "$(url "$path")") || true
  expect_text "status of $*" "$want" "$code"
}

curl_head() {
  local out=$WORK/head.txt
  curl -sSI --max-time "$kClientTimeout" "$(url /)" >"$out" || return 1
  contains "$out" "HTTP/1.1 200 OK" "Content-Length: 13" "Content-Type: text/plain" || return 1
  if grep -q "Hello" "$out"; then
    echo "HEAD answer has a body" | diag
    return 1
  fi
}

curl_405_allow() {
  local out=$WORK/405.txt
  curl -sS -i --max-time "$kClientTimeout" -X POST "$(url /)" >"$out" || return 1
  contains "$out" "405 Method Not Allowed" "Allow: GET, HEAD" "Connection: close"
}

# ---------------------------------------------------------------------------------------------
# wrk

wrk_pipelined() {
  local out=$WORK/wrk.txt
  # 4 connections: prefork and threadpool serve 4 at once by default; more would wait unserved.
  if ! timeout $((kWrkSeconds + 20)) wrk -t1 -c4 -d"${kWrkSeconds}s" --timeout 5s \
    -s "$SCRIPT_DIR/../../loadtest/pipeline.lua" "$(url /)" -- 16 >"$out" 2>&1; then
    echo "wrk failed:" | diag
    diag <"$out"
    return 1
  fi
  local requests
  requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$out")
  if [[ -z $requests || $requests -lt 1000 ]]; then
    echo "too few requests (${requests:-none}):" | diag
    diag <"$out"
    return 1
  fi
  if grep -qE "Socket errors|Non-2xx" "$out"; then
    echo "wrk saw errors:" | diag
    diag <"$out"
    return 1
  fi
  WRK_REQUESTS=$requests
}

# ---------------------------------------------------------------------------------------------
# nc: malformed requests

# nc_exchange REQUEST: sends REQUEST (printf format) then half-closes; the reply in $NC_OUT.
NC_OUT=""
nc_exchange() {
  NC_OUT=$WORK/nc.out
  # shellcheck disable=SC2059 # the request is a printf format on purpose (\r\n)
  printf "$1" | timeout "$kClientTimeout" nc -N 127.0.0.1 "$SRV_PORT" >"$NC_OUT" || true
}

# nc_rejects STATUS REQUEST: the answer is exactly one response, STATUS with Connection: close,
# although a valid request follows the bad one in the same write: the server stopped reading.
nc_rejects() {
  local status=$1 request=$2
  nc_exchange "${request}GET / HTTP/1.1\r\nHost: x\r\n\r\n"
  local first count
  first=$(head -n1 "$NC_OUT" | tr -d '\r')
  count=$(grep -c '^HTTP/1.1 ' "$NC_OUT" || true)
  if [[ $first != "HTTP/1.1 $status"* || $count -ne 1 ]] || ! grep -q $'^Connection: close\r$' "$NC_OUT" ||
    ! grep -q $'^Content-Length: ' "$NC_OUT"; then
    printf 'sent %q\n' "$request" | diag
    echo "want one 'HTTP/1.1 $status' with Connection: close and Content-Length; got:" | diag
    head -c 1000 "$NC_OUT" | diag
    return 1
  fi
}

# The server closes after a 400 by itself, while the client still has its side open.
closes_after_400() {
  local fd reply rc=0
  exec {fd}<>"/dev/tcp/127.0.0.1/$SRV_PORT" || return 1
  printf 'HELLO\r\n\r\n' >&"$fd"
  reply=$(timeout 5 cat <&"$fd") || rc=$?
  exec {fd}>&-
  if ((rc != 0)); then
    echo "no EOF within 5s after the 400 (cat exit $rc)" | diag
    return 1
  fi
  [[ $reply == "HTTP/1.1 400 Bad Request"* ]] || { printf 'got %q\n' "$reply" | diag; return 1; }
}

nc_pipelined() {
  nc_exchange 'GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
  # One line, "|" for each line end: the three bodies must come in request order.
  local flat
  flat=$(tr -d '\r' <"$NC_OUT" | tr '\n' '|')
  if [[ $flat != "HTTP/1.1 200 OK|"*"||Hello, World!HTTP/1.1 200 OK|"*"||abcHTTP/1.1 200 OK|"*"|Connection: close||ok|" ]]; then
    echo "want 3 answers in order (Hello, World!, abc, ok); got:" | diag
    diag <"$NC_OUT"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------

strategy_checks() {
  local s=$1
  if ! start_srv "$s" --strategy "$s" --protocol http --listen 127.0.0.1:0; then
    not_ok "$s: starts with --protocol http"
    return
  fi
  ok "$s: starts and listens on 127.0.0.1:$SRV_PORT"
  check "$s: GET / answers Hello, World!" curl_hello
  check "$s: GET /healthz answers 200" curl_healthz
  check "$s: curl reuses one connection for two URLs" curl_keep_alive
  check "$s: HTTP/1.0 closes by default" curl_http10_close
  check "$s: HTTP/1.0 with Connection: keep-alive reuses the connection" curl_http10_keep_alive
  check "$s: POST /echo -d echoes" curl_echo_text
  check "$s: POST /echo --data-binary @file (64 KiB) echoes" curl_echo "$WORK/random-64k.bin"
  check "$s: POST /echo chunked (300 KiB) echoes" curl_echo "$WORK/random-300k.bin" \
    -H 'Transfer-Encoding: chunked'
  check "$s: POST /echo 1 MiB (the default max_body_bytes) echoes" curl_echo "$WORK/random-1m.bin"
  check "$s: a body over max_body_bytes gets 413" curl_status 413 --data-binary \
    "@$WORK/random-2m.bin" /echo
  check "$s: unknown path gets 404" curl_status 404 /nope
  check "$s: HEAD (curl -I) has Content-Length and no body" curl_head
  check "$s: POST / gets 405 with Allow" curl_405_allow
  check "$s: PUT gets 501" curl_status 501 -X PUT /
  WRK_REQUESTS=""
  if wrk_pipelined; then
    ok "$s: wrk, pipelining depth 16 for ${kWrkSeconds}s: $WRK_REQUESTS answers, no errors, all 2xx"
  else
    not_ok "$s: wrk, pipelining depth 16 for ${kWrkSeconds}s: no errors, all 2xx"
  fi
  check "$s: nc: three pipelined requests answered in order" nc_pipelined
  check "$s: nc: bad request line gets 400 and close" nc_rejects 400 'HELLO\r\n\r\n'
  check "$s: nc: the server closes after a 400 on its own" closes_after_400
  check "$s: nc: HTTP/1.1 without Host gets 400" nc_rejects 400 'GET / HTTP/1.1\r\n\r\n'
  check "$s: nc: Transfer-Encoding with Content-Length gets 400" nc_rejects 400 \
    'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
  check "$s: nc: Content-Length: 5, 6 gets 400" nc_rejects 400 \
    'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!'
  check "$s: nc: two different Content-Lengths get 400" nc_rejects 400 \
    'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'
  check "$s: nc: obs-fold gets 400" nc_rejects 400 \
    'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n'
  check "$s: nc: bad chunk size gets 400" nc_rejects 400 \
    'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'
  check "$s: nc: Transfer-Encoding: chunked, gzip gets 400" nc_rejects 400 \
    'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'
  check "$s: nc: bare LF gets 400" nc_rejects 400 'GET / HTTP/1.1\nHost: x\n\n'
  check "$s: still serving after all that" curl_hello
  check "$s: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
}

# header_timeout and the refusal need options: a server from a config file.
timeout_checks() {
  local s=$1
  local config=$WORK/http-$s.yaml
  cat >"$config" <<EOF
strategy: $s
max_connections: 2
listeners:
  - listen: 127.0.0.1:0
    protocol: {name: http, options: {header_timeout: 1s, max_header_bytes: 4KiB, max_body_bytes: 64KiB}}
EOF
  if ! start_srv "timeout-$s" -c "$config"; then
    not_ok "$s: starts with http options from a config file"
    return
  fi
  ok "$s: starts with http options from a config file"

  # Half a head, then silence with the connection open: 408 after ~1s, then the server closes.
  local fd reply rc=0 started=$SECONDS
  exec {fd}<>"/dev/tcp/127.0.0.1/$SRV_PORT"
  printf 'GET / HTTP/1.1\r\nHost: x\r\n' >&"$fd"
  reply=$(timeout 8 cat <&"$fd") || rc=$?
  exec {fd}>&-
  if ((rc == 0)) && [[ $reply == "HTTP/1.1 408 Request Timeout"* && $reply == *"Connection: close"* ]] &&
    ((SECONDS - started <= 5)); then
    ok "$s: an unfinished head gets 408 after header_timeout, then close"
  else
    not_ok "$s: an unfinished head gets 408 after header_timeout, then close"
    printf 'cat exit %s after %ss; got %q\n' "$rc" $((SECONDS - started)) "$reply" | diag
  fi

  check "$s: max_body_bytes from the config applies" curl_status 413 --data-binary \
    "@$WORK/random-300k.bin" /echo
  check "$s: max_header_bytes from the config applies" curl_status 431 \
    -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' b)" /

  # prefork keeps excess connections in the listen backlog instead of refusing them.
  if [[ $s != prefork ]]; then
    # Two idle connections fill max_connections: 2; the third is refused.
    local holder1 holder2
    exec {holder1}<>"/dev/tcp/127.0.0.1/$SRV_PORT" {holder2}<>"/dev/tcp/127.0.0.1/$SRV_PORT"
    sleep 0.5
    local out=$WORK/refusal-$s.txt
    curl -sS -i --max-time 5 "$(url /)" >"$out" 2>&1 || true
    exec {holder1}>&- {holder2}>&-
    if grep -q "503 Service Unavailable" "$out" && grep -q "Connection: close" "$out"; then
      ok "$s: over max_connections, a client gets the 503 refusal"
    else
      not_ok "$s: over max_connections, a client gets the 503 refusal"
      diag <"$out"
    fi
  fi
  check "$s: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
}

head -c $((64 * 1024)) /dev/urandom >"$WORK/random-64k.bin"
head -c $((300 * 1024)) /dev/urandom >"$WORK/random-300k.bin"
head -c $((1024 * 1024)) /dev/urandom >"$WORK/random-1m.bin"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$WORK/random-2m.bin"

list_strategies
strategies=${SRV_STRATEGIES:-$strategies}  # e.g. SRV_STRATEGIES=epoll while debugging
if timeout 10 "$SRV" --list-protocols | grep -q '^http'; then
  ok "--list-protocols lists http"
else
  not_ok "--list-protocols lists http"
fi
# shellcheck disable=SC2086 # word splitting of the name list is intended
for strategy in $strategies; do
  strategy_checks "$strategy"
  timeout_checks "$strategy"
done

harness_finish
