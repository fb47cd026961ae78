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
# TLS: srv-loadtest --tls against redis-server and nginx with TLS and against srv's own TLS
# listener under every strategy (keep-alive, a full handshake per request, resumed handshakes),
# handshake failures (no TLS on the other side, an untrusted certificate) as "tls" errors, and
# a tiny `compare --tls-modes keepalive,full,resumed`.
# Needs jq, xmllint, openssl, nginx and redis-server (scripts/install-deps.sh --test). Every run
# is bounded by timeout(1).

set -euo pipefail

SRV=${1:-build/bin/srv}
LOADTEST=${2:-$(dirname "$SRV")/srv-loadtest}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kRunTimeout=30       # seconds for one srv-loadtest run (each lasts under a second)
readonly kCompareTimeout=300  # seconds for the tiny compare matrix

PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin  # nginx lives in /usr/sbin
harness_init srv-loadtest-integration
require_tools --hint "(scripts/install-deps.sh --test)" jq xmllint timeout openssl nginx \
  redis-server
if [[ ! -x $LOADTEST ]]; then
  not_ok "srv-loadtest binary '$LOADTEST' exists and is executable"
  harness_finish || exit 1
fi
list_strategies

# load NAME ARGS...: srv-loadtest --json against $SRV_PORT (or $TARGET_PORT when set); leaves
# the JSON in $WORK/NAME.json.
load() {
  local name=$1
  shift
  timeout "$kRunTimeout" "$LOADTEST" --target "127.0.0.1:${TARGET_PORT:-$SRV_PORT}" --json \
    -d 0.5 --warmup 0.1 "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
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

# ---------------------------------------------------------------------------------------------
# TLS

cert=$WORK/cert.pem
key=$WORK/key.pem
make_cert() {  # make_cert CERT KEY: a throwaway ECDSA P-256 certificate for localhost, 127.0.0.1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$2" -out "$1" \
    -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    >"$WORK/openssl-req.log" 2>&1
}
check "a throwaway certificate" make_cert "$cert" "$key"
tls=(--tls --tls-ca "$cert")

# free_port: a port on 127.0.0.1 that does not accept right now.
free_port() {
  local port
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# start_peer NAME PORT COMMAND...: COMMAND in the background until 127.0.0.1:PORT accepts
# (bounded); its output in $WORK/NAME.log. Sets PEER_PID.
PEER_PID=""
start_peer() {
  local name=$1 port=$2 i
  shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  PEER_PID=$!
  started_pids+=("$PEER_PID")
  for ((i = 0; i < 100; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$PEER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name does not accept on 127.0.0.1:$port:" | diag
  diag <"$WORK/$name.log"
  return 1
}
stop_peer() {
  kill -TERM "$PEER_PID" 2>/dev/null || true
  wait "$PEER_PID" 2>/dev/null || true
  forget_pid "$PEER_PID"
}

# json_check NAME EXPRESSION: jq -e EXPRESSION holds for $WORK/NAME.json.
json_check() {
  if ! jq -e "$2" "$WORK/$1.json" >/dev/null; then
    echo "$2 does not hold:" | diag
    jq -c '{requests, errors, error_kinds, tls_negotiated, handshakes, resumed}' \
      "$WORK/$1.json" 2>&1 | diag
    return 1
  fi
}

# tls_runs TAG PROTOCOL ARGS...: keep-alive, full and resumed handshakes against $TARGET_PORT.
tls_runs() {
  local tag=$1 protocol=$2
  shift 2
  check "$tag: keep-alive over TLS, every reply verified" \
    verified "$tag-keepalive" -P "$protocol" -c 4 "${tls[@]}" "$@"
  check "$tag: ... TLS 1.3 negotiated and reported" \
    json_check "$tag-keepalive" '.tls and (.tls_negotiated | startswith("TLSv1.3 "))'
  check "$tag: a new connection per request, every reply verified" \
    verified "$tag-full" -P "$protocol" -c 4 --requests-per-connection 1 "${tls[@]}" "$@"
  check "$tag: ... one full handshake per request" json_check "$tag-full" \
    '.handshakes > 0 and .resumed == 0 and (.handshakes - .requests | fabs) <= 4'
  check "$tag: --tls-resume, every reply verified" verified "$tag-resumed" -P "$protocol" -c 4 \
    --requests-per-connection 1 --tls-resume "${tls[@]}" "$@"
  check "$tag: ... most handshakes resumed" json_check "$tag-resumed" \
    '.handshakes > 0 and .resumed >= .handshakes / 2'
}

redis_port=$(free_port) || redis_port=""
if [[ -n $redis_port ]] && start_peer redis-tls "$redis_port" redis-server --port 0 \
  --tls-port "$redis_port" --bind 127.0.0.1 --tls-cert-file "$cert" --tls-key-file "$key" \
  --tls-ca-cert-file "$cert" --tls-auth-clients no --save '' --appendonly no; then
  TARGET_PORT=$redis_port
  tls_runs "redis-server TLS" resp --mix set:1,get:2 --keys 50
  other=$WORK/other.pem
  make_cert "$other" "$WORK/other-key.pem"
  rc=0
  load untrusted -P resp -c 2 --tls --tls-ca "$other" || rc=$?
  check "an untrusted certificate: exit 1" test "$rc" -eq 1
  check "... counted as tls errors, with OpenSSL's reason" \
    grep -q 'tls: .*(first: certificate verify failed: self-signed certificate)' \
    "$WORK/untrusted.err"
  rc=0
  load unverified -P resp -c 2 --tls || rc=$?
  check "--tls without --tls-ca works, and says once that nothing is verified" \
    test "$rc" -eq 0 -a "$(grep -c 'not verified' "$WORK/unverified.err")" -eq 1
  # GET expects what SET wrote with this run's --size: other values go first.
  timeout 10 redis-cli -p "$redis_port" --tls --cacert "$cert" flushall >/dev/null 2>&1 || true
  check "redis-server TLS: pipeline 8, 20 kB values, SNI localhost, every reply verified" \
    verified redis-big -P resp -c 2 --pipeline 8 --size 20000 --mix set:1,get:1 --keys 8 \
    "${tls[@]}" --tls-sni localhost
  stop_peer
  unset TARGET_PORT
else
  not_ok "redis-server starts with TLS"
fi

nginx_port=$(free_port) || nginx_port=""
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
$(if [[ $(id -u) -eq 0 ]]; then echo "user root;"; fi)
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  keepalive_requests 1000000;  # nginx's 1000 would close pipelined connections mid-run
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/plain; return 200 "Hello, World!"; }
  }
}
EOF
if [[ -n $nginx_port ]] && start_peer nginx-tls "$nginx_port" nginx -p "$WORK/nginx" \
  -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"; then
  TARGET_PORT=$nginx_port
  tls_runs "nginx TLS" http --pipeline 8
  stop_peer
  unset TARGET_PORT
else
  not_ok "nginx starts with TLS"
fi

# srv's own TLS listener, under every strategy.
srv_tls_config() {  # srv_tls_config PROTOCOL: the path of a config with one TLS listener
  cat >"$WORK/srv-tls-$1.yaml" <<EOF
listeners:
  - listen: 127.0.0.1:0
    protocol: $1
    tls:
      cert: $cert
      key: $key
EOF
  echo "$WORK/srv-tls-$1.yaml"
}
if "$SRV" --config "$(srv_tls_config http)" --check-config >"$WORK/tls-check.log" 2>&1; then
  srv_tls=1
else
  srv_tls=0
  echo "ok - srv TLS listeners # SKIP this srv has none: $(head -n 1 "$WORK/tls-check.log")"
fi
if ((srv_tls)); then
  for strategy in $strategies; do
    if start_srv "tls-$strategy" --strategy "$strategy" --config "$(srv_tls_config http)" \
      --max-connections 64; then
      check "srv $strategy TLS: keep-alive, pipeline 4, POST /echo, every reply verified" \
        verified "srv-tls-$strategy" -P http -c 4 --pipeline 4 --size 700 "${tls[@]}"
      check "srv $strategy TLS: resumed handshakes, every reply verified" \
        verified "srv-tls-$strategy-resumed" -P http -c 2 --requests-per-connection 1 \
        --tls-resume "${tls[@]}"
      check "srv $strategy TLS: ... resumed" \
        json_check "srv-tls-$strategy-resumed" '.handshakes > 0 and .resumed >= .handshakes / 2'
      check "srv $strategy TLS: srv exits 0 on SIGTERM" stop_srv
    else
      not_ok "srv $strategy starts with a TLS listener"
    fi
  done
fi

# No TLS on the other side: the handshake fails, as a tls error with OpenSSL's reason.
if start_srv plain-for-tls --strategy epoll --protocol http --listen 127.0.0.1:0; then
  rc=0
  load no-tls -P http -c 2 "${tls[@]}" || rc=$?
  check "--tls against a plain server: exit 1" test "$rc" -eq 1
  check "... counted as tls errors, with OpenSSL's reason" \
    grep -Eq 'tls: [0-9]+ \(first: [a-z]' "$WORK/no-tls.err"
  check "... and in the JSON" json_check no-tls '.error_kinds.tls > 0 and .requests == 0'
  stop_srv || true
fi
check "--tls-ca without --tls: exit 2" \
  expect_usage_error "--tls-ca requires --tls" --tls-ca "$cert"
check "--tls-resume without --tls: exit 2" expect_usage_error "--tls-resume requires --tls" \
  --tls-resume

# A tiny compare with the TLS modes (srv with TLS only).
if ((srv_tls)); then
  report=$WORK/compare-tls
  compare_rc=0
  timeout "$kCompareTimeout" "$LOADTEST" compare --srv "$SRV" --out "$report" -c 2 \
    --strategies epoll,thread --pipeline 1 -d 0.5 --warmup 0.2 \
    --tls-modes plain,keepalive,full,resumed >"$WORK/compare-tls.out" \
    2>"$WORK/compare-tls.err" || compare_rc=$?
  check "compare --tls-modes exits 0" test "$compare_rc" -eq 0
  ((compare_rc == 0)) || diag <"$WORK/compare-tls.err"
  check "compare --tls-modes: 2 strategies x 4 modes, zero errors" test "$(jq '[.points[] |
    select(.skipped == null and .run.errors == 0 and .run.requests > 0)] | length' \
    "$report/results.json")" -eq 8
  check "... TLS on all but plain, full and resumed handshakes counted" test "$(jq '[.points[] |
    select((.tls_mode == "plain") == (.run.tls | not)
      and ((.tls_mode == "full" or .tls_mode == "resumed") == (.run.handshakes > 0))
      and ((.tls_mode == "resumed") == (.run.resumed > 0)))] | length' \
    "$report/results.json")" -eq 8
  check "... the table has the TLS columns" \
    grep -q '^| strategy | TLS | connections |.*| handshakes/s | resumed % |' "$report/results.md"
  check "... a plot per mode" test -s "$report/plots/throughput_resumed_p1_s0.svg" -a \
    -s "$report/plots/throughput_plain_p1_s0.png"
  check "... srv was given the TLS listener" grep -q 'tls:' \
    "$report/logs/epoll-full-c2-p1-s0.yaml"
fi

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
