#!/usr/bin/env bash
# End-to-end checks of srv's TLS listeners with the clients people use, over loopback only.
#
#   tests/integration/tls.sh [path/to/srv]      (default: build/bin/srv)
#
# Makes a CA and certificates with `openssl` (a server certificate for localhost/127.0.0.1, a
# second one for other.test chosen by SNI, a client certificate, a self-signed client
# certificate the CA did not sign, and a key that matches nothing), then for every strategy that
# `srv --list-strategies` prints starts one srv with three TLS listeners (http with two SNI
# certificates and handshake_timeout: 1s, resp, echo with verify_client: on) and drives them with
# openssl s_client (TLS 1.3 and 1.2 with a cipher of Mozilla's intermediate profile, SNI, ALPN,
# resumption), curl, redis-cli, redis-benchmark, wrk and socat. Then it refuses what must be
# refused (TLS 1.1, a cipher outside the profile, ALPN h2 alone, no or an unknown client
# certificate, garbage, plaintext HTTP, a stalled handshake) while a kept-alive client goes on
# being served, and reads srv's reason for each in its log. Last, bad tls: sections must exit 2
# from `srv --check-config` at file:line:col.
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last; exits 1 on failure.
# Needs openssl, curl, wrk, redis-tools and socat (scripts/install-deps.sh --test). Every wait is
# bounded.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=10    # seconds for one client command
readonly kBenchmarkTimeout=60 # seconds for one redis-benchmark run
readonly kWrkSeconds=2
readonly kWorkers=16 # prefork workers and threadpool threads: every client below at once
# Mozilla's "intermediate" profile (https://wiki.mozilla.org/Security/Server_Side_TLS, 5.7),
# written out here rather than read from srv, so that a change of srv's defaults shows.
readonly kProfileTls13="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
readonly kProfileTls12="ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256
ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305
ECDHE-RSA-CHACHA20-POLY1305 DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-GCM-SHA384
DHE-RSA-CHACHA20-POLY1305"

harness_init srv-tls-integration
require_tools --hint "(scripts/install-deps.sh --test)" openssl curl wrk redis-cli \
  redis-benchmark socat nc timeout awk
# A client that dies while we write to it must fail that write, not end this script.
trap '' PIPE

# ---------------------------------------------------------------------------------------------
# Certificates, made fresh for every run

CERTS=$WORK/certs

# new_key FILE: a P-256 private key.
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME SUBJECT SERIAL EXTENSIONS [CA]: $CERTS/NAME.pem for $CERTS/NAME.key, valid two days,
# signed by CA (ca by default; "self" for self-signed), with EXTENSIONS (one per line).
sign() {
  local name=$1 subject=$2 serial=$3 extensions=$4 ca=${5:-ca}
  local signer=(-CA "$CERTS/$ca.pem" -CAkey "$CERTS/$ca.key")
  [[ $ca == self ]] && signer=(-signkey "$CERTS/$name.key")
  new_key "$CERTS/$name.key" &&
    openssl req -new -key "$CERTS/$name.key" -subj "$subject" -out "$CERTS/$name.csr" 2>/dev/null &&
    printf '%s\n' "$extensions" >"$CERTS/$name.ext" || return 1
  if ! openssl x509 -req -in "$CERTS/$name.csr" "${signer[@]}" -set_serial "$serial" -days 2 \
    -extfile "$CERTS/$name.ext" -out "$CERTS/$name.pem" 2>"$CERTS/$name.err"; then
    diag <"$CERTS/$name.err"
    return 1
  fi
}

make_certificates() {
  mkdir -p "$CERTS"
  sign ca "/CN=srv test CA" 1 $'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign' self &&
    sign server "/CN=localhost" 2 $'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth' &&
    sign other "/CN=other.test" 3 $'subjectAltName=DNS:other.test\nextendedKeyUsage=serverAuth' &&
    sign client "/CN=srv test client" 4 'extendedKeyUsage=clientAuth' &&
    sign rogue "/CN=srv rogue client" 5 'extendedKeyUsage=clientAuth' self &&
    new_key "$CERTS/stray.key" &&
    echo "not a PEM key" >"$CERTS/junk.key"
}

# ---------------------------------------------------------------------------------------------
# The server

HTTP_PORT=""
RESP_PORT=""
ECHO_PORT=""

# write_config STRATEGY: $WORK/tls-STRATEGY.yaml, certificates named relative to it. Reads of
# 1 KiB, smaller than a TLS record (up to 16 KiB): most reads of a large body leave decrypted
# bytes inside OpenSSL, which only has_pending() reports (polling the socket cannot).
write_config() {
  cat >"$WORK/tls-$1.yaml" <<EOF
strategy: $1
limits: {read_chunk: 1KiB}
prefork: {workers: $kWorkers}
threadpool: {threads: $kWorkers}
listeners:
  - listen: 127.0.0.1:0
    protocol: http
    tls:
      cert: certs/server.pem
      key: certs/server.key
      certificates:
        - {cert: certs/other.pem, key: certs/other.key}
        - {cert: certs/other.pem, key: certs/other.key, sni: "*.alias.test"}
      handshake_timeout: 1s
  - listen: 127.0.0.1:0
    protocol: resp
    tls: {cert: certs/server.pem, key: certs/server.key}
  - listen: 127.0.0.1:0
    protocol: echo
    tls: {cert: certs/server.pem, key: certs/server.key, client_ca: certs/ca.pem, verify_client: on}
EOF
}

# listener_port PROTOCOL: the port of srv's TLS listener for PROTOCOL, from its log (bounded).
listener_port() {
  local port="" deadline=$((SECONDS + 5))
  while [[ -z $port ]] && ((SECONDS <= deadline)); do
    port=$(sed -n "s/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\) protocol=$1 transport=tls .*/\1/p" \
      "$SRV_LOG" | head -n1)
    [[ -n $port ]] || sleep 0.05
  done
  echo "$port"
}

# log_says TEXT: srv's log has a line containing TEXT within 3 s (a forked child may log late).
log_says() {
  local deadline=$((SECONDS + 3))
  until grep -qF -- "$1" "$SRV_LOG"; do
    if ((SECONDS > deadline)); then
      echo "no log line containing: $1" | diag
      tail -n 5 "$SRV_LOG" | diag
      return 1
    fi
    sleep 0.05
  done
}


# ---------------------------------------------------------------------------------------------
# openssl s_client

# s_client OUT ARGS...: one `GET /` with Connection: close through openssl s_client to the http
# listener (the answer, the handshake summary and any error go to OUT); its exit status.
s_client() {
  local out=$1
  shift
  printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout "$kClientTimeout" openssl s_client -connect "127.0.0.1:$HTTP_PORT" \
      -CAfile "$CERTS/ca.pem" -verify_return_error -ign_eof "$@" >"$out" 2>&1
}

# contains FILE TEXT...: FILE has every fixed string TEXT.
contains() {
  local file=$1 text
  shift
  for text in "$@"; do
    if ! grep -qF -- "$text" "$file"; then
      echo "no '$text' in:" | diag
      grep -vE '^( {4}|[A-Za-z0-9+/=]{64}$)' "$file" | head -n 40 | diag
      return 1
    fi
  done
}

# negotiates VERSION PROFILE ARGS...: a handshake with ARGS settles on VERSION with a cipher
# from PROFILE, the server's chain verifies, and GET / is answered.
negotiates() {
  local version=$1 profile=$2 out=$WORK/s_client-$1.txt
  shift 2
  s_client "$out" "$@" || { echo "s_client failed:" | diag; diag <"$out"; return 1; }
  contains "$out" "Verify return code: 0 (ok)" "HTTP/1.1 200 OK" "Hello, World!" || return 1
  local cipher
  cipher=$(sed -n "s/^New, $version, Cipher is \(.*\)$/\1/p" "$out")
  if [[ -z $cipher ]]; then
    echo "not a new $version session: $(grep -E '^(New|Reused),' "$out")" | diag
    return 1
  fi
  if ! grep -qw -- "$cipher" <<<"$profile"; then
    echo "cipher $cipher is not in the intermediate profile" | diag
    return 1
  fi
  NEGOTIATED=$cipher
}

# serves_certificate CN ARGS...: a handshake with ARGS gets the certificate for CN (verified).
serves_certificate() {
  local cn=$1 out=$WORK/s_client-sni.txt
  shift
  s_client "$out" "$@" || { echo "s_client $* failed:" | diag; diag <"$out"; return 1; }
  contains "$out" "subject=CN = $cn" "Verify return code: 0 (ok)" "Hello, World!"
}

alpn_http11() {
  local out=$WORK/s_client-alpn.txt
  s_client "$out" "$@" || { diag <"$out"; return 1; }
  contains "$out" "ALPN protocol: http/1.1" "Hello, World!"
}

# refused ALERT ARGS...: s_client with ARGS fails with ALERT and gets no HTTP answer.
refused() {
  local alert=$1 out=$WORK/s_client-refused.txt
  shift
  if s_client "$out" "$@"; then
    echo "s_client $* succeeded" | diag
    return 1
  fi
  contains "$out" "$alert" || return 1
  if grep -q "HTTP/1.1" "$out"; then
    echo "an HTTP answer came through" | diag
    return 1
  fi
}

# resumes VERSION: a first handshake saves its session; three more (each a new process under
# fork, likely another worker under prefork) resume it.
resumes() {
  local version=$1 flag=$2 session=$WORK/session-$1.pem out=$WORK/s_client-resume.txt
  rm -f "$session"
  s_client "$out" "$flag" -sess_out "$session" || { diag <"$out"; return 1; }
  contains "$out" "New, $version" || return 1
  [[ -s $session ]] || { echo "no session saved" | diag; return 1; }
  for _ in 1 2 3; do
    s_client "$out" "$flag" -sess_in "$session" || { diag <"$out"; return 1; }
    contains "$out" "Reused, $version" "Hello, World!" || return 1
  done
}

# ---------------------------------------------------------------------------------------------
# A client kept alive across the refusals: openssl s_client on the http listener, driven
# through a coprocess one request at a time.

KEEPER_CHILD=""
KEEPER_IN=""
KEEPER_OUT=""

keeper_open() {
  coproc KEEPER {
    exec timeout 120 openssl s_client -quiet -connect "127.0.0.1:$HTTP_PORT" \
      -CAfile "$CERTS/ca.pem" -verify_return_error 2>"$WORK/keeper.err"
  }
  # shellcheck disable=SC2153 # KEEPER_PID is set by coproc
  KEEPER_CHILD=$KEEPER_PID
  started_pids+=("$KEEPER_CHILD") # the harness's cleanup ends it if this script stops early
  # Duplicates: bash forgets a coprocess's descriptors once it exits.
  exec {KEEPER_IN}>&"${KEEPER[1]}" {KEEPER_OUT}<&"${KEEPER[0]}"
}

# keeper_request [CLOSE]: GET /healthz on the kept connection, answered within 5 s. With CLOSE,
# asks the server to close after the answer.
keeper_request() {
  local close=${1:-} line length="" body=""
  local request='GET /healthz HTTP/1.1\r\nHost: localhost\r\n'
  [[ -n $close ]] && request+='Connection: close\r\n'
  # shellcheck disable=SC2059 # the request is a printf format on purpose (\r\n)
  if ! { printf "$request\r\n" >&"$KEEPER_IN"; } 2>/dev/null; then
    echo "the kept connection is gone (s_client: $(tail -n 2 "$WORK/keeper.err"))" | diag
    return 1
  fi
  if ! IFS= read -r -t 5 line <&"$KEEPER_OUT" || [[ $line != $'HTTP/1.1 200 OK\r' ]]; then
    printf 'want HTTP/1.1 200 OK within 5 s, got %q (s_client: %s)\n' "${line-}" \
      "$(tail -n 2 "$WORK/keeper.err")" | diag
    return 1
  fi
  while IFS= read -r -t 5 line <&"$KEEPER_OUT" && [[ $line != $'\r' ]]; do
    [[ ${line,,} =~ ^content-length:\ *([0-9]+) ]] && length=${BASH_REMATCH[1]}
  done
  if [[ -z $length ]] || ! IFS= read -r -N "$length" -t 5 body <&"$KEEPER_OUT" ||
    [[ $body != $'ok\n' ]]; then
    printf 'want a body "ok\\n" (Content-Length %s), got %q\n' "$length" "$body" | diag
    return 1
  fi
}

# keeper_close: the last request asks for a close; s_client must then exit on its own.
keeper_close() {
  local status=0
  keeper_request close || status=1
  local deadline=$((SECONDS + 5))
  while kill -0 "$KEEPER_CHILD" 2>/dev/null && ((SECONDS <= deadline)); do sleep 0.05; done
  if kill -0 "$KEEPER_CHILD" 2>/dev/null; then
    echo "the server did not close the kept connection after Connection: close" | diag
    kill "$KEEPER_CHILD" 2>/dev/null || true
    status=1
  fi
  wait "$KEEPER_CHILD" 2>/dev/null || true
  forget_pid "$KEEPER_CHILD"
  exec {KEEPER_IN}>&- {KEEPER_OUT}<&-
  return "$status"
}

# ---------------------------------------------------------------------------------------------
# curl, redis-cli, redis-benchmark, wrk, socat

url() { echo "https://127.0.0.1:$HTTP_PORT$1"; }

curl_get() {
  local body
  body=$(curl -sS --max-time "$kClientTimeout" --cacert "$CERTS/ca.pem" "$(url /)") || return 1
  [[ $body == "Hello, World!" ]] || { printf 'got %q\n' "$body" | diag; return 1; }
}

# curl_echo FILE: POST /echo with FILE as the body; the answer is FILE.
curl_echo() {
  local file=$1 out=$WORK/curl-echo.bin
  curl -sS --max-time "$kClientTimeout" --cacert "$CERTS/ca.pem" --data-binary "@$file" \
    -o "$out" "$(url /echo)" || return 1
  cmp -s "$file" "$out" || { echo "sent $(wc -c <"$file") bytes, got $(wc -c <"$out")" | diag; return 1; }
}

# Three URLs in one curl: one TLS handshake, the connection reused twice, ALPN http/1.1.
curl_keep_alive() {
  local out=$WORK/curl-keepalive.txt reused
  curl -sv --max-time "$kClientTimeout" --cacert "$CERTS/ca.pem" "$(url /)" "$(url /healthz)" \
    "$(url /)" >"$out" 2>&1 || { diag <"$out"; return 1; }
  contains "$out" "ALPN: server accepted http/1.1" "SSL certificate verify ok" || return 1
  reused=$(grep -c "Re-using existing connection" "$out" || true)
  if ((reused != 2)) || (($(grep -c "SSL connection using" "$out") != 1)); then
    echo "want one handshake and 2 reuses, got $reused reuses:" | diag
    grep -E "^\* " "$out" | head -n 30 | diag
    return 1
  fi
}

# redis_cli WANT ARGS...: redis-cli over TLS prints exactly WANT.
redis_cli() {
  local want=$1 got
  shift
  got=$(timeout "$kClientTimeout" redis-cli --tls --cacert "$CERTS/ca.pem" -h 127.0.0.1 \
    -p "$RESP_PORT" "$@" 2>&1) || { echo "redis-cli $* failed: $got" | diag; return 1; }
  [[ $got == "$want" ]] || { printf 'redis-cli %s: want %q, got %q\n' "$*" "$want" "$got" | diag; return 1; }
}

# set_then_get KEY: SET on one connection, GET on another.
set_then_get() { redis_cli OK SET "$1" "value of $1" && redis_cli "value of $1" GET "$1"; }

BENCH_SUMMARY=""
redis_benchmark() {
  local out=$WORK/bench.csv err=$WORK/bench.err rc=0 name rps
  timeout "$kBenchmarkTimeout" redis-benchmark --tls --cacert "$CERTS/ca.pem" -h 127.0.0.1 \
    -p "$RESP_PORT" -t set,get -n 2000 -c 10 -q --csv >"$out" 2>"$err" || rc=$?
  BENCH_SUMMARY=$(awk -F'"' 'NR > 1 { printf "%s=%.0f/s ", $2, $4 }' "$out")
  if ((rc != 0)) || grep -qi error "$out" "$err"; then
    echo "redis-benchmark exited $rc (124: timed out)" | diag
    tail -n 5 "$err" "$out" | diag
    return 1
  fi
  for name in SET GET; do
    rps=$(awk -F'"' -v name="$name" '$2 == name { print $4 }' "$out")
    awk -v r="${rps:-0}" 'BEGIN { exit !(r > 0) }' || { echo "no rate for $name" | diag; diag <"$out"; return 1; }
  done
}

WRK_REQUESTS=""
wrk_https() {
  local out=$WORK/wrk.txt
  if ! timeout $((kWrkSeconds + 20)) wrk -t1 -c4 -d"${kWrkSeconds}s" --timeout 5s "$(url /)" \
    >"$out" 2>&1; then
    echo "wrk failed:" | diag
    diag <"$out"
    return 1
  fi
  WRK_REQUESTS=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$out")
  if [[ -z $WRK_REQUESTS || $WRK_REQUESTS -lt 100 ]] || grep -qE "Socket errors|Non-2xx" "$out"; then
    echo "errors or too few requests (${WRK_REQUESTS:-none}):" | diag
    diag <"$out"
    return 1
  fi
}

# socat_echo CERT: "hello" through socat to the echo listener (verify_client: on) with the
# client certificate CERT (none: no certificate); echoes, and the close_notify that socat sends
# at the end of its input makes the server close within 3 s (socat waits for it).
socat_echo() {
  local cert=$1 got rc=0 started=$SECONDS
  local address="OPENSSL:127.0.0.1:$ECHO_PORT,cafile=$CERTS/ca.pem"
  [[ $cert != none ]] && address+=",cert=$CERTS/$cert.pem,key=$CERTS/$cert.key"
  got=$(printf 'hello\n' | timeout "$kClientTimeout" socat -t5 - "$address" 2>"$WORK/socat.err") || rc=$?
  if ((rc != 0)) || [[ $got != hello ]] || ((SECONDS - started > 3)); then
    printf 'socat exit %s after %ss, got %q: %s\n' "$rc" $((SECONDS - started)) "$got" \
      "$(tail -n 2 "$WORK/socat.err")" | diag
    return 1
  fi
}

# socat_no_echo: socat without a client certificate to the echo listener gets nothing back.
# (socat takes the refusal, an alert after its TLS 1.3 handshake, for an EOF: srv's log says why.)
socat_no_echo() {
  local got
  got=$(printf 'hello\n' | timeout "$kClientTimeout" socat -t5 - \
    "OPENSSL:127.0.0.1:$ECHO_PORT,cafile=$CERTS/ca.pem" 2>"$WORK/socat.err") || true
  [[ -z $got ]] || { printf 'got %q back\n' "$got" | diag; return 1; }
}

# echo_refused ALERT ARGS...: s_client with ARGS to the echo listener (verify_client: on) gets
# ALERT and no echo. In TLS 1.3 the server judges the client's certificate after the client has
# finished its handshake: the alert comes when s_client waits for the echo.
echo_refused() {
  local alert=$1 out=$WORK/s_client-echo.txt
  shift
  printf 'hello\n' | timeout "$kClientTimeout" openssl s_client -connect "127.0.0.1:$ECHO_PORT" \
    -CAfile "$CERTS/ca.pem" -ign_eof "$@" >"$out" 2>&1 || true
  contains "$out" "$alert" || return 1
  if grep -qx hello "$out"; then
    echo "the echo came back" | diag
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Raw bytes on the TLS port

# raw_closes BYTES: sends BYTES (printf format) and half-closes; the server must close without a
# single plaintext byte (a TLS alert record, type 21, is all it may send).
raw_closes() {
  local out=$WORK/raw.bin
  # shellcheck disable=SC2059 # the bytes are a printf format on purpose (\x..)
  printf "$1" | timeout "$kClientTimeout" nc -N 127.0.0.1 "$HTTP_PORT" >"$out" || {
    echo "nc failed or the server did not close within ${kClientTimeout}s" | diag
    return 1
  }
  if [[ -s $out && $(head -c 1 "$out" | od -An -tu1 | tr -d ' ') != 21 ]]; then
    echo "the server answered with something other than an alert:" | diag
    head -c 200 "$out" | od -c | head -n 5 | diag
    return 1
  fi
}

# stalled_handshake: half a ClientHello (a record header promising 512 bytes), then silence. While
# it stalls the kept client is served; the server closes it after handshake_timeout (1 s).
stalled_handshake() {
  local fd rc=0 started
  exec {fd}<>"/dev/tcp/127.0.0.1/$HTTP_PORT" || return 1
  printf '\x16\x03\x01\x02\x00' >&"$fd"
  started=$(date +%s%N)
  keeper_request || { exec {fd}>&-; echo "(while a handshake stalled)" | diag; return 1; }
  timeout 5 cat <&"$fd" >/dev/null || rc=$?
  exec {fd}>&-
  local ms=$((($(date +%s%N) - started) / 1000000))
  if ((rc != 0 || ms < 900 || ms > 4000)); then
    echo "want a close 1 s after the stall, got cat exit $rc after ${ms} ms" | diag
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Each strategy

strategy_checks() {
  local s=$1
  write_config "$s"
  if ! start_srv "tls-$s" -c "$WORK/tls-$s.yaml"; then
    not_ok "$s: starts with three TLS listeners"
    return
  fi
  HTTP_PORT=$(listener_port http)
  RESP_PORT=$(listener_port resp)
  ECHO_PORT=$(listener_port echo)
  if [[ -z $HTTP_PORT || -z $RESP_PORT || -z $ECHO_PORT ]]; then
    not_ok "$s: logs http, resp and echo listeners with transport=tls"
    diag <"$SRV_LOG"
    stop_srv || true
    return
  fi
  ok "$s: listens with TLS on $HTTP_PORT (http), $RESP_PORT (resp), $ECHO_PORT (echo)"

  keeper_open
  check "$s: a kept-alive s_client connection is served" keeper_request

  NEGOTIATED=""
  if negotiates TLSv1.3 "$kProfileTls13" -tls1_3; then
    ok "$s: s_client -tls1_3 negotiates TLSv1.3 with $NEGOTIATED (intermediate profile)"
  else
    not_ok "$s: s_client -tls1_3 negotiates TLSv1.3 with a cipher of the intermediate profile"
  fi
  if negotiates TLSv1.2 "$kProfileTls12" -tls1_2; then
    ok "$s: s_client -tls1_2 negotiates TLSv1.2 with $NEGOTIATED (intermediate profile)"
  else
    not_ok "$s: s_client -tls1_2 negotiates TLSv1.2 with a cipher of the intermediate profile"
  fi
  check "$s: SNI other.test gets the other.test certificate" \
    serves_certificate other.test -servername other.test -verify_hostname other.test
  check "$s: SNI a.alias.test gets the certificate listed for *.alias.test" \
    serves_certificate other.test -servername a.alias.test
  check "$s: SNI localhost gets the default certificate" \
    serves_certificate localhost -servername localhost -verify_hostname localhost
  check "$s: an unknown SNI name gets the default certificate" \
    serves_certificate localhost -servername unknown.test
  check "$s: SNI b.a.alias.test (two labels under *.alias.test) gets the default certificate" \
    serves_certificate localhost -servername b.a.alias.test
  check "$s: no SNI gets the default certificate" serves_certificate localhost -noservername
  check "$s: ALPN http/1.1 is negotiated" alpn_http11 -alpn http/1.1
  check "$s: ALPN h2,http/1.1 settles on http/1.1" alpn_http11 -alpn h2,http/1.1
  check "$s: ALPN h2 alone is refused with no_application_protocol" \
    refused "alert no application protocol" -alpn h2
  check "$s: TLS 1.3 session resumption (3 of 3 reused)" resumes TLSv1.3 -tls1_3
  check "$s: TLS 1.2 session resumption (3 of 3 reused)" resumes TLSv1.2 -tls1_2

  check "$s: curl GET / over https" curl_get
  check "$s: curl POST /echo -d over https" curl_echo "$WORK/small.txt"
  check "$s: curl POST /echo 1 MiB over https" curl_echo "$WORK/random-1m.bin"
  check "$s: curl, three URLs: one handshake, connection reused, ALPN http/1.1" curl_keep_alive

  check "$s: redis-cli --tls PING" redis_cli PONG PING
  check "$s: redis-cli --tls SET then GET" set_then_get "tls:$s"
  if redis_benchmark; then
    ok "$s: redis-benchmark --tls -t set,get -n 2000 -c 10: no errors ($BENCH_SUMMARY)"
  else
    not_ok "$s: redis-benchmark --tls -t set,get -n 2000 -c 10: no errors"
  fi
  if wrk_https; then
    ok "$s: wrk https for ${kWrkSeconds}s: $WRK_REQUESTS answers, no errors, all 2xx"
  else
    not_ok "$s: wrk https for ${kWrkSeconds}s: no errors, all 2xx"
  fi

  check "$s: verify_client on: socat with the client certificate echoes, closes promptly" \
    socat_echo client
  check "$s: verify_client on: socat without a certificate gets no echo" socat_no_echo
  check "$s: ... srv logs why" \
    log_says "no valid client certificate (verify_client) (peer did not return a certificate"
  check "$s: verify_client on: s_client -tls1_3 without a certificate gets certificate_required" \
    echo_refused "alert certificate required" -tls1_3
  check "$s: verify_client on: s_client -tls1_2 without a certificate gets handshake_failure" \
    echo_refused "alert handshake failure" -tls1_2
  check "$s: verify_client on: a certificate the CA did not sign gets unknown_ca" \
    echo_refused "alert unknown ca" -cert "$CERTS/rogue.pem" -key "$CERTS/rogue.key"

  refusal_checks "$s"

  check "$s: the kept-alive connection ends on Connection: close" keeper_close
  check "$s: still serving after all that" curl_get
  check "$s: exits 0 within ${kStopTimeout}s of SIGTERM" stop_srv
  check "$s: the log has no error or sanitizer report" clean_log
}

# Each refusal, then the kept-alive client is served again on its open connection.
refusal_checks() {
  local s=$1
  check "$s: s_client -tls1_1 is refused with protocol_version" \
    refused "alert protocol version" -tls1_1
  check "$s: ... srv logs why" log_says "the client offers only TLS versions below min_version"
  check "$s: ... the kept-alive client is still served" keeper_request

  check "$s: s_client -tls1_2 -cipher AES128-SHA (outside the profile) gets handshake_failure" \
    refused "alert handshake failure" -tls1_2 -cipher AES128-SHA
  check "$s: ... srv logs why" log_says "the client offers no cipher or group of the profile"
  check "$s: ... the kept-alive client is still served" keeper_request
  # AES128-SHA needs an RSA certificate, which this server does not have: refused whatever the
  # cipher list. ECDHE-ECDSA-AES128-SHA would work with its certificate but is outside the profile.
  check "$s: s_client -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA (CBC, outside the profile) is refused" \
    refused "alert handshake failure" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA

  check "$s: ... srv logged the ALPN refusal" log_says "no ALPN protocol in common"

  check "$s: garbage bytes are closed without plaintext" raw_closes 'garbage\x00\xff\xfe\r\n\r\n'
  check "$s: ... srv logs why" log_says "bytes that are not a TLS handshake"
  check "$s: ... the kept-alive client is still served" keeper_request

  check "$s: a plaintext HTTP request is closed without a plaintext answer" \
    raw_closes 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'
  check "$s: ... srv logs why" log_says "plaintext HTTP on a TLS port"
  check "$s: ... the kept-alive client is still served" keeper_request

  check "$s: a stalled handshake is closed after handshake_timeout (1s), others served meanwhile" \
    stalled_handshake
  check "$s: ... srv logs why" log_says "timed out: the client sent no complete handshake"
  check "$s: ... the kept-alive client is still served" keeper_request
}

# ---------------------------------------------------------------------------------------------
# Configuration errors: `srv --check-config` exits 2 at file:line:col

# config_error DESCRIPTION TLS_LINES WANT: a listener whose tls: section is TLS_LINES (the
# section's keys at 6 spaces); stderr must contain WANT after "srv: FILE:".
config_error() {
  local description=$1 file=$WORK/bad-tls.yaml err rc=0
  printf 'listeners:\n  - listen: 127.0.0.1:0\n    protocol: http\n    tls:\n%s\n' "$2" >"$file"
  err=$(timeout 10 "$SRV" --check-config -c "$file" 2>&1) || rc=$?
  if [[ $rc -eq 2 && $err == *"srv: $file:$3"* ]]; then
    ok "config: $description exits 2 at file:line:col"
  else
    not_ok "config: $description exits 2 at file:line:col"
    printf 'want exit 2 and "%s", got exit %s: %s\n' "$file:$3" "$rc" "$err" | diag
  fi
}

config_checks() {
  local good=$'      cert: certs/server.pem\n      key: certs/server.key'
  config_error "a missing cert file" $'      cert: certs/nope.pem\n      key: certs/server.key' \
    "5:13: listeners[0].tls.cert: cannot read $CERTS/nope.pem: No such file or directory"
  config_error "a key file that holds no key" $'      cert: certs/server.pem\n      key: certs/junk.key' \
    "6:12: listeners[0].tls.key: $CERTS/junk.key holds no usable PEM private key"
  if ((EUID != 0)); then  # root reads any file
    cp "$CERTS/server.key" "$CERTS/locked.key"
    chmod 000 "$CERTS/locked.key"
    config_error "an unreadable key file" $'      cert: certs/server.pem\n      key: certs/locked.key' \
      "6:12: listeners[0].tls.key: cannot read $CERTS/locked.key: Permission denied"
  fi
  config_error "a key that does not match the certificate" \
    $'      cert: certs/server.pem\n      key: certs/stray.key' \
    "6:12: listeners[0].tls.key: $CERTS/stray.key does not match the certificate in $CERTS/server.pem"
  config_error "a mismatched key in certificates[1]" \
    "$good"$'\n      certificates:\n        - {cert: certs/other.pem, key: certs/other.key}\n        - {cert: certs/other.pem, key: certs/server.key}' \
    "9:40: listeners[0].tls.certificates[1].key: $CERTS/server.key does not match the certificate"
  config_error "min_version: TLSv1.1" "$good"$'\n      min_version: TLSv1.1' \
    "7:20: listeners[0].tls.min_version: TLS 1.0 and 1.1 are not supported"
  config_error "a cipher string that matches nothing" "$good"$'\n      ciphers: NO-SUCH-CIPHER' \
    "7:16: listeners[0].tls.ciphers: no TLS 1.2 cipher matches 'NO-SUCH-CIPHER'"
  config_error "a TLS 1.3 cipher suite that matches nothing" \
    "$good"$'\n      ciphersuites: TLS_NO_SUCH_SUITE' \
    "7:21: listeners[0].tls.ciphersuites: no TLS 1.3 cipher suite matches 'TLS_NO_SUCH_SUITE'"
  config_error "verify_client: on without client_ca" "$good"$'\n      verify_client: on' \
    "7:22: listeners[0].tls.verify_client: needs client_ca"
}

# ---------------------------------------------------------------------------------------------

if make_certificates; then
  ok "openssl made a CA, server, SNI, client and rogue certificates"
else
  not_ok "openssl made a CA, server, SNI, client and rogue certificates"
  harness_finish || exit 1
fi
printf 'hello over TLS' >"$WORK/small.txt"
head -c $((1024 * 1024)) /dev/urandom >"$WORK/random-1m.bin"

config_checks
list_strategies
strategies=${SRV_STRATEGIES:-$strategies} # e.g. SRV_STRATEGIES=epoll while debugging
# shellcheck disable=SC2086 # word splitting of the name list is intended
for strategy in $strategies; do
  strategy_checks "$strategy"
done

harness_finish
