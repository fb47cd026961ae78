#!/usr/bin/env bash
# srv and srv-loadtest against their anchors, in one run on one machine:
#   1. srv-loadtest vs wrk, both loading nginx (HTTP GET /, 64 connections)
#   2. srv-loadtest vs redis-benchmark, both loading redis-server (PING, SET, GET; 50 connections)
#   3. srv (epoll, one loop) vs nginx (one worker, `return 200`) under wrk: 64 connections, then
#      16 pipelined requests per write (loadtest/pipeline.lua, GET / only)
#   4. srv --protocol resp vs redis-server under redis-benchmark (PING, SET, GET; 50 connections),
#      then with -P 16
#   5. (extra, no target) srv vs nginx and srv resp vs redis-server under srv-loadtest
#   6. TLS (unless --no-tls): srv-loadtest --tls vs wrk https, both loading nginx with TLS; srv
#      vs nginx with TLS under wrk and srv-loadtest: keep-alive, a new connection (full
#      handshake) per request, the same resuming sessions
#   7. TLS: srv-loadtest --tls vs redis-benchmark --tls loading redis-server with TLS; srv resp
#      vs redis-server, both with TLS, under redis-benchmark and srv-loadtest
#   Every TLS server uses the same throwaway ECDSA P-256 certificate and is forced to what srv
#   picks by default: TLS 1.3 TLS_AES_128_GCM_SHA256 (TLS 1.2: ECDHE-ECDSA-AES128-GCM-SHA256),
#   key exchange X25519; each server's negotiated parameters are checked with openssl s_client.
# and prints the ratios next to their targets, with how busy the server CPU and the load
# generator CPU were in every run (which of the two set the pace). The targets are benchmark
# figures to chase and report, not pass/fail tests: the exit status is 1 only if a measurement
# could not be taken or saw errors (wrong replies, non-2xx, socket errors), else 0 whether or not
# the targets are met.
#
#   loadtest/peers.sh [--duration SECONDS] [--requests N] [--out DIR] [--build-dir DIR] [--no-tls]
#
# Installs what is missing (nginx, redis-server, wrk, redis-tools; apt-get, via sudo unless root)
# and builds srv and srv-loadtest in the build dir if they are not there. Everything runs on
# 127.0.0.1 on free ports from a temp dir; every server is stopped on exit. With two or more CPUs,
# servers are pinned to CPU 0 and load generators to CPU 1 (taskset), the same for every server.
set -euo pipefail

PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin  # nginx lives in /usr/sbin
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)

readonly kHttpConnections=64
readonly kRespConnections=50
readonly kPipeline=16
readonly kWarmup=1          # srv-loadtest --warmup, seconds
readonly kPipelinedFactor=25  # redis-benchmark -P 16: --requests times this, about 2 s a test
readonly kServerCpu=0
readonly kClientCpu=1
readonly kStartTries=100    # x 0.1 s for a server to accept connections
# What srv's TLS listener picks by default (server preference, the first of its lists); every
# TLS server here is forced to it, so they all do the same cryptography.
readonly kTls13Suite=TLS_AES_128_GCM_SHA256
readonly kTls12Cipher=ECDHE-ECDSA-AES128-GCM-SHA256
readonly kTlsGroup=X25519

usage() {
  cat <<EOF
usage: loadtest/peers.sh [options]
  --duration SECONDS   length of every wrk and srv-loadtest run (default 5)
  --requests N         requests per redis-benchmark test (default 200000;
                       x$kPipelinedFactor with -P $kPipeline)
  --out DIR            where peers.md, peers.json and raw/ go
                       (default loadtest/results/peers-<date>)
  --build-dir DIR      the CMake build dir holding bin/srv and bin/srv-loadtest (default build)
  --no-tls             skip the TLS runs (rows 6 and 7)
  -h, --help           this text
EOF
}

log() { echo "peers.sh: $*" >&2; }
die() {
  echo "peers.sh: error: $*" >&2
  exit 1
}
usage_error() {
  echo "peers.sh: $*" >&2
  usage >&2
  exit 2
}

duration=5
requests=200000
out=""
build_dir=build
tls=1
while (($# > 0)); do
  case $1 in
    --no-tls)
      tls=0
      shift
      continue
      ;;
    --duration | --requests | --out | --build-dir)
      (($# >= 2)) || usage_error "$1 needs a value"
      opt=$1 value=$2
      shift 2
      ;;
    --duration=* | --requests=* | --out=* | --build-dir=*)
      opt=${1%%=*} value=${1#*=}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  case $opt in
    --duration) duration=$value ;;
    --requests) requests=$value ;;
    --out) out=$value ;;
    --build-dir) build_dir=$value ;;
  esac
done
if ! [[ $duration =~ ^[0-9]+$ ]] || ((duration < 1 || duration > 3600)); then
  usage_error "--duration: whole seconds, 1..3600 (got '$duration')"
fi
if ! [[ $requests =~ ^[0-9]+$ ]] || ((requests < 1000 || requests > 100000000)); then
  usage_error "--requests: 1000..100000000 (got '$requests')"
fi
[[ $build_dir == /* ]] || build_dir=$REPO/$build_dir
started_at=$(date +%Y%m%d-%H%M%S)
[[ -n $out ]] || out=$REPO/loadtest/results/peers-$started_at
mkdir -p "$out/raw" || die "cannot create output dir '$out'"
out=$(cd "$out" && pwd)

# ---------------------------------------------------------------------------------------------
# Tools

as_root=()
if [[ $(id -u) -ne 0 ]]; then as_root=(sudo); fi

# install_missing: apt-get installs the packages whose programs are not on PATH.
install_missing() {
  local missing=() want_nginx=0
  command -v nginx >/dev/null || want_nginx=1
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v wrk >/dev/null || missing+=(wrk)
  { command -v redis-benchmark && command -v redis-cli; } >/dev/null || missing+=(redis-tools)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  command -v taskset >/dev/null || missing+=(util-linux)
  command -v timeout >/dev/null || missing+=(coreutils)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((want_nginx == 0 && ${#missing[@]} == 0)); then return 0; fi
  command -v apt-get >/dev/null ||
    die "missing programs and no apt-get to install them: need nginx, redis-server, wrk," \
      "redis-benchmark, redis-cli, curl, python3, taskset, timeout, openssl"
  if ((${#as_root[@]} > 0)) && ! command -v sudo >/dev/null; then
    die "not root and no sudo: cannot install missing packages"
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "updating the apt package lists"
  "${as_root[@]+"${as_root[@]}"}" apt-get update -qq || die "apt-get update failed"
  if ((want_nginx)); then
    # nginx-light where the archive still has it (a small build), else plain nginx.
    local policy
    policy=$(apt-cache policy nginx-light 2>/dev/null || true)
    if [[ $policy =~ Candidate:\ [0-9] ]]; then
      missing+=(nginx-light)
    else
      missing+=(nginx)
    fi
  fi
  log "installing: ${missing[*]} (their own services may start on :80/:6379; they stay idle)"
  "${as_root[@]+"${as_root[@]}"}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get install ${missing[*]} failed"
  local tool
  for tool in nginx redis-server wrk redis-benchmark redis-cli curl python3 taskset timeout \
    openssl; do
    command -v "$tool" >/dev/null || die "'$tool' still missing after installing ${missing[*]}"
  done
}
install_missing

srv_bin=$build_dir/bin/srv
loadtest_bin=$build_dir/bin/srv-loadtest
loadtest_problem=""  # why srv-loadtest cannot be used, if it cannot
if [[ ! -x $srv_bin || ! -x $loadtest_bin ]]; then
  if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null; then
    log "installing the build dependencies (scripts/install-deps.sh)"
    "$REPO/scripts/install-deps.sh" || die "scripts/install-deps.sh failed"
  fi
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    log "configuring $build_dir (Release)"
    cmake -S "$REPO" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2 ||
      die "cmake configure of $build_dir failed"
  fi
  log "building srv"
  cmake --build "$build_dir" --target srv >&2 || die "building srv failed"
  log "building srv-loadtest"
  if ! cmake --build "$build_dir" --target srv-loadtest >&2; then
    loadtest_problem="srv-loadtest did not build (cmake --build $build_dir --target srv-loadtest)"
    log "error: $loadtest_problem; its steps will be marked FAILED"
  fi
fi
[[ -x $srv_bin ]] || die "$srv_bin is not an executable"
if [[ -z $loadtest_problem && ! -x $loadtest_bin ]]; then
  loadtest_problem="$loadtest_bin is not an executable"
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null ||
  true)
if [[ -n $build_type && $build_type != Release ]]; then
  log "warning: $build_dir is a $build_type build, not Release"
fi

# ---------------------------------------------------------------------------------------------
# Pinning, temp dir, cleanup

server_pin=()
client_pin=()
cpus=$(nproc)
if ((cpus >= 2)); then
  server_pin=(taskset -c "$kServerCpu")
  client_pin=(taskset -c "$kClientCpu")
  pinning="servers pinned to CPU $kServerCpu, load generators to CPU $kClientCpu (taskset -c),"
  pinning+=" same for every server; nproc=$cpus"
else
  pinning="no pinning: only $cpus CPU, servers and load generators share it"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/srv-peers.XXXXXX")
chmod 755 "$work"
pids=()        # every server started, stopped on exit
client_pid=""  # the load generator running, if one is

# stop_pid PID: SIGTERM, up to 5 s for it to exit, then SIGKILL to it and its children.
stop_pid() {
  local pid=$1 children i
  children=$(pgrep -P "$pid" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "warning: pid $pid still running 5s after SIGTERM; killing it"
    # shellcheck disable=SC2086 # $children: a list of pids
    kill -KILL "$pid" $children 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
stop_servers() {
  local pid
  for pid in "${pids[@]+"${pids[@]}"}"; do stop_pid "$pid"; done
  pids=()
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [[ -n $client_pid ]]; then stop_pid "$client_pid"; fi
  stop_servers
  cp "$work"/*.log "$out/raw/" 2>/dev/null || true  # the servers' own logs
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# accepts PORT: a TCP connection to 127.0.0.1:PORT succeeds.
accepts() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# wait_accepting NAME PID PORT LOG: until 127.0.0.1:PORT accepts; dies if PID exits first or
# after kStartTries tries.
wait_accepting() {
  local name=$1 pid=$2 port=$3 logfile=$4 i
  for ((i = 0; i < kStartTries; i++)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited at start; its log:
$(tail -n 20 "$logfile")"
    if accepts "$port"; then return 0; fi
    sleep 0.1
  done
  die "$name does not accept on 127.0.0.1:$port after $((kStartTries / 10))s; its log:
$(tail -n 20 "$logfile")"
}

# start_server NAME PORT COMMAND...: COMMAND in the background, pinned to the server CPU; waits
# for 127.0.0.1:PORT to accept. Sets server_pid.
server_pid=""
start_server() {
  local name=$1 port=$2
  shift 2
  local logfile=$work/$name.log
  "${server_pin[@]+"${server_pin[@]}"}" "$@" >"$logfile" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_accepting "$name" "$server_pid" "$port" "$logfile"
}

# start_srv NAME ARGS...: srv --strategy=epoll ARGS... (which make it listen on 127.0.0.1:0:
# --protocol=P --listen 127.0.0.1:0, or --config FILE) on a free port it picks and logs. Sets
# server_pid and srv_port.
srv_port=""
start_srv() {
  local name=$1 logfile=$work/$1.log i
  shift
  : >"$logfile"  # exists before the first look below, whenever the child opens it
  "${server_pin[@]+"${server_pin[@]}"}" "$srv_bin" --strategy=epoll "$@" >"$logfile" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  srv_port=""
  for ((i = 0; i < kStartTries; i++)); do
    srv_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p;T;q' "$logfile")
    [[ -n $srv_port ]] && break
    kill -0 "$server_pid" 2>/dev/null || die "$name exited at start; its log:
$(tail -n 20 "$logfile")"
    sleep 0.1
  done
  [[ -n $srv_port ]] || die "$name printed no 'listening on 127.0.0.1:PORT' line; its log:
$(tail -n 20 "$logfile")"
  wait_accepting "$name" "$server_pid" "$srv_port" "$logfile"
}

# srv_tls_config FILE PROTOCOL: an srv configuration with one TLS listener on 127.0.0.1:0 with
# the run's certificate, forced to the same TLS parameters as the other servers.
srv_tls_config() {
  cat >"$1" <<EOF
listeners:
  - listen: 127.0.0.1:0
    protocol: $2
    tls:
      cert: $tls_cert
      key: $tls_key
      ciphersuites: $kTls13Suite
      ciphers: $kTls12Cipher
      groups: $kTlsGroup
EOF
}

# check_http NAME PORT [SCHEME]: GET / answers 200 "Hello, World!" (https: verified against the
# run's certificate); the whole response goes to raw/.
check_http() {
  local name=$1 port=$2 scheme=${3:-http} raw=$out/raw/$1-get.txt
  local ca=()
  if [[ $scheme == https ]]; then ca=(--cacert "$tls_cert"); fi
  curl -sS -i --max-time 5 "${ca[@]+"${ca[@]}"}" "$scheme://127.0.0.1:$port/" >"$raw" 2>&1 ||
    die "$name: curl $scheme://127.0.0.1:$port/ failed: $(head -n 3 "$raw")"
  local status
  status=$(head -n1 "$raw")
  [[ $status == "HTTP/1.1 200"* ]] || die "$name: GET / is not 200: $status"
  [[ $(tail -n1 "$raw") == "Hello, World!" ]] || die "$name: GET / body is not 'Hello, World!'"
}

# check_resp NAME PORT [ARGS...]: PING answers PONG (ARGS: redis-cli's, e.g. --tls --cacert C).
check_resp() {
  local reply
  reply=$(timeout 5 redis-cli -h 127.0.0.1 -p "$2" "${@:3}" ping 2>&1) || true
  [[ $reply == PONG ]] || die "$1: redis-cli ping on 127.0.0.1:$2 answered '$reply', not PONG"
}

# tls_params NAME PORT: what openssl s_client negotiates with 127.0.0.1:PORT ("TLSv1.3
# TLS_AES_128_GCM_SHA256 X25519"), its output in raw/NAME-tls.txt; appends it to tls_seen.
tls_seen=""
tls_params() {
  local name=$1 raw=$out/raw/$1-tls.txt params
  timeout 5 openssl s_client -connect "127.0.0.1:$2" -CAfile "$tls_cert" -brief </dev/null \
    >"$raw" 2>&1 || true
  params=$(awk -F': ' '/^Protocol version/ {v = $2} /^Ciphersuite/ {c = $2}
    /^(Server|Peer) Temp Key/ {split($2, k, ","); g = k[1]}
    END { if (v != "") print v, c, g }' "$raw")
  [[ -n $params ]] || die "$name: openssl s_client negotiated nothing: $(tail -n 3 "$raw")"
  grep -q "Verification: OK" "$raw" ||
    die "$name: the certificate did not verify: $(head -n 3 "$raw")"
  log "$name negotiates $params"
  tls_seen="${tls_seen:+$tls_seen; }$name $params"
}

# ---------------------------------------------------------------------------------------------
# Measurements: one line each in $work/measurements.tsv, the report reads them at the end.
#   KEY  TOOL  SERVER  COMMAND  REQ/S (empty: failed)  ERRORS  NOTE  RAW  SERVER-CPU%  CLIENT-CPU%

measurements=$work/measurements.tsv
: >"$measurements"
one_line() {
  local s=${1//$'\t'/ }
  s=${s//$'\r'/}
  printf '%s' "${s//$'\n'/ | }"
}

# cpu_mark: busy and total ticks of the server CPU, then of the client CPU (/proc/stat; busy is
# user + nice + system + irq + softirq, total adds idle, iowait and steal).
cpu_mark() {
  awk -v s="cpu$kServerCpu" -v c="cpu$kClientCpu" '
    $1 == s || $1 == c {
      b = $2 + $3 + $4 + $7 + $8; t = b + $5 + $6 + $9
      if ($1 == s) { sb = b; st = t } else { cb = b; ct = t }
    }
    END { print sb + 0, st + 0, cb + 0, ct + 0 }' /proc/stat
}
# Set around every client run; record turns them into how busy each CPU was.
cpu_before=""
cpu_after=""
# cpu_used: "SERVER% CLIENT%" from cpu_before to cpu_after; "- -" without pinning.
cpu_used() {
  if ((${#server_pin[@]} == 0)) || [[ -z $cpu_before || -z $cpu_after ]]; then
    echo "- -"
    return 0
  fi
  awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "%d %d\n", (y[2] > x[2] ? 100 * (y[1] - x[1]) / (y[2] - x[2]) + 0.5 : 0),
                      (y[4] > x[4] ? 100 * (y[3] - x[3]) / (y[4] - x[4]) + 0.5 : 0) }'
}

# run_client STDOUT STDERR SECONDS COMMAND...: COMMAND pinned to the client CPU, ended after
# SECONDS (status 124) if still running; STDERR "=" joins STDOUT. Sets client_rc, cpu_before and
# cpu_after. In the background, so that a signal to this script is handled at once (the cleanup
# stops it) rather than after the run.
client_rc=0
run_client() {
  local stdout=$1 stderr=$2 seconds=$3
  shift 3
  client_rc=0
  cpu_before=$(cpu_mark)
  if [[ $stderr == = ]]; then
    "${client_pin[@]+"${client_pin[@]}"}" timeout "$seconds" "$@" >"$stdout" 2>&1 &
  else
    "${client_pin[@]+"${client_pin[@]}"}" timeout "$seconds" "$@" >"$stdout" 2>"$stderr" &
  fi
  client_pid=$!
  wait "$client_pid" || client_rc=$?
  client_pid=""
  cpu_after=$(cpu_mark)
}

# record KEY TOOL SERVER COMMAND REQ/S ERRORS NOTE RAW: one measurement, with the CPU use
# between cpu_before and cpu_after.
record() {
  local key=$1 tool=$2 server=$3 command=$4 rps=$5 errors=$6 note=$7 raw=$8 server_cpu client_cpu
  read -r server_cpu client_cpu <<<"$(cpu_used)"
  cpu_before=""
  cpu_after=""
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$tool" "$server" \
    "$(one_line "$command")" "$rps" "$errors" "$(one_line "$note")" "${raw#"$out"/}" \
    "$server_cpu" "$client_cpu" >>"$measurements"
  local cpu="server CPU $server_cpu%, client CPU $client_cpu%"
  if [[ -z $rps ]]; then
    log "  -> FAILED: $note"
  elif ((errors > 0)); then
    log "  -> $rps req/s ($cpu), $errors errors: $note"
  else
    log "  -> $rps req/s ($cpu)"
  fi
}

# run_wrk KEY SERVER URL DEPTH [ARGS...]: wrk -t1 -c64 for the duration against URL; DEPTH > 1
# pipelines that many GET / per write (loadtest/pipeline.lua, GET / only); ARGS go before URL.
run_wrk() {
  local key=$1 server=$2 url=$3 depth=$4 raw=$out/raw/$1.txt
  shift 4
  local args=(-t1 -c"$kHttpConnections" -d"${duration}s" --timeout 5s "$@")
  if ((depth > 1)); then
    args+=(-s "$SCRIPT_DIR/pipeline.lua" "$url" -- "$depth" get)
  else
    args+=("$url")
  fi
  log "$key: wrk ${args[*]}"
  run_client "$raw" = $((duration + 30)) wrk "${args[@]}"
  local rc=$client_rc
  local rps non2xx socket errors=0 note=""
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.][0-9.]*\).*/\1/p;T;q' "$raw")
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9][0-9]*\).*/\1/p;T;q' "$raw")
  socket=$(sed -n 's/^ *Socket errors: *//p;T;q' "$raw")
  if [[ -n $non2xx ]]; then
    errors=$((errors + non2xx))
    note="non-2xx/3xx responses: $non2xx"
  fi
  if [[ -n $socket ]]; then
    local n
    while read -r n; do errors=$((errors + n)); done < <(grep -o '[0-9][0-9]*' <<<"$socket")
    note="${note:+$note; }socket errors: $socket"
  fi
  if ((rc != 0)); then
    rps=""
    note="wrk exit status $rc"
    if ((rc == 124)); then note="$note (timed out after $((duration + 30))s)"; fi
    note="$note: $(tail -n 3 "$raw")"
  elif [[ -z $rps ]]; then
    note="no Requests/sec line in wrk's output: $(tail -n 3 "$raw")"
  fi
  record "$key" wrk "$server" "wrk ${args[*]}" "$rps" "$errors" "$note" "$raw"
}

# run_loadtest KEY SERVER PORT PROTOCOL CONNECTIONS [ARGS...]: srv-loadtest --json for the
# duration (after the warm-up).
run_loadtest() {
  local key=$1 server=$2 port=$3 protocol=$4 connections=$5
  shift 5
  local raw=$out/raw/$key.json err=$out/raw/$key.stderr
  local args=(--protocol "$protocol" --target "127.0.0.1:$port" -c "$connections" -t 1
    -d "$duration" --warmup "$kWarmup" "$@" --json)
  log "$key: srv-loadtest ${args[*]}"
  if [[ -n $loadtest_problem ]]; then
    record "$key" srv-loadtest "$server" "srv-loadtest ${args[*]}" "" 0 "$loadtest_problem" "$raw"
    return 0
  fi
  run_client "$raw" "$err" $((duration + kWarmup + 30)) "$loadtest_bin" "${args[@]}"
  local rc=$client_rc
  local parsed rps="" errors=0 completed=0 kinds="" note=""
  if ((rc == 0 || rc == 1)) && parsed=$(python3 - "$raw" <<'PY' 2>&1
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
rps, errors, requests = float(d["rps"]), int(d["errors"]), int(d["requests"])
kinds = ", ".join(f"{k}: {v}" for k, v in (d.get("error_kinds") or {}).items())
tls = ""
if d.get("tls"):
    hs, seconds = int(d["handshakes"]), float(d["seconds"]) or 1
    tls = d["tls_negotiated"] + (f", {hs / seconds:.0f} handshakes/s" if hs else "")
    if hs and d.get("tls_resume"):
        tls += f", {100 * int(d['resumed']) / hs:.1f}% resumed"
print("\x1f".join([f"{rps:.2f}", str(errors), str(requests), kinds, tls]))
PY
  ); then
    local tls_note
    IFS=$'\x1f' read -r rps errors completed kinds tls_note <<<"$parsed"
    note=$tls_note
    if ((errors > 0)); then note="${note:+$note; }errors: $errors${kinds:+ ($kinds)}"; fi
    if ((rc == 1 && errors == 0)); then note="exit status 1 but 0 errors in the JSON"; fi
    if ((completed == 0)); then
      rps=""
      note="no requests completed${note:+; $note}"
    fi
  else
    case $rc in
      0 | 1)
        if [[ ! -s $raw ]]; then
          note="exit status $rc but nothing on stdout, where --json puts the report"
        else
          note="exit status $rc but no valid report on stdout (${parsed##*$'\n'})"
        fi
        ;;
      2) note="usage error (exit status 2)" ;;
      124) note="timed out after $((duration + kWarmup + 30))s" ;;
      *) note="exit status $rc" ;;
    esac
    if [[ -s $err ]]; then note="$note; stderr: $(tail -n 3 "$err")"; fi
  fi
  record "$key" srv-loadtest "$server" "srv-loadtest ${args[*]}" "$rps" "$errors" "$note" "$raw"
}

# run_redis_benchmark KEY SERVER PORT COMMAND N [ARGS...]: redis-benchmark -c 50 -n N --csv with
# the one test COMMAND (ping: its PING_MBULK test, a RESP array like srv-loadtest's; set; get).
run_redis_benchmark() {
  local key=$1 server=$2 port=$3 command=$4 n=$5
  shift 5
  local test=$command row=${command^^}
  if [[ $command == ping ]]; then
    test=ping_mbulk
    row=PING_MBULK
  fi
  local raw=$out/raw/$key.csv err=$out/raw/$key.stderr
  local args=(-h 127.0.0.1 -p "$port" -c "$kRespConnections" -n "$n" -t "$test" --csv "$@")
  local limit=$((60 + n / 5000))
  log "$key: redis-benchmark ${args[*]}"
  run_client "$raw" "$err" "$limit" redis-benchmark "${args[@]}"
  local rc=$client_rc
  local rps errors=0 note=""
  rps=$(python3 - "$raw" "$row" <<'PY'
import csv, sys
with open(sys.argv[1]) as f:
    for row in csv.reader(f):
        if len(row) > 1 and row[0] == sys.argv[2]:
            try:
                print(f"{float(row[1]):.2f}")
            except ValueError:
                pass
            break
PY
  )
  if ((rc == 124)); then
    rps=""
    note="redis-benchmark timed out after ${limit}s"
  elif ((rc != 0)) || [[ -z $rps ]]; then
    # redis-benchmark stops at the first error reply ("Error from server: ...", exit status 1).
    errors=1
    rps=""
    note="redis-benchmark exit status $rc, no $row row: $(grep -h -m2 -i error "$raw" "$err" ||
      tail -n 2 "$err")"
  fi
  record "$key" redis-benchmark "$server" "redis-benchmark ${args[*]}" "$rps" "$errors" "$note" \
    "$raw"
}

# ---------------------------------------------------------------------------------------------
# The runs

log "$pinning"
# cpu_busy: percent of all CPUs' time spent busy over the next second (from /proc/stat).
cpu_busy() {
  local a b
  a=$(awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    total = y[2] - x[2]; print (total > 0 ? int(100 - 100 * (y[1] - x[1]) / total + 0.5) : 0) }'
}
busy_percent=$(cpu_busy)
load_before="$(cut -d' ' -f1-3 /proc/loadavg), CPUs ${busy_percent}% busy"
busy=""
if ((busy_percent > 10)); then
  busy="the CPUs were ${busy_percent}% busy before the runs"
  log "warning: $busy"
else
  log "load average before the runs: $load_before"
fi
log "output: $out"

# CPU time over the runs: all CPUs' busy ticks against those of this script and its children
# (servers and clients, once waited for); the difference is what other processes took.
system_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
own_ticks() { sed 's/^.*) //' "/proc/$$/stat" | awk '{print $12 + $13 + $14 + $15}'; }
system_ticks_before=$(system_ticks)
own_ticks_before=$(own_ticks)
runs_started=$(date +%s.%N)

# HTTP: nginx and srv, wrk and srv-loadtest.
nginx_port=$(free_port)
mkdir -p "$work/nginx-tmp"
user_line=""
if [[ $(id -u) -eq 0 ]]; then user_line="user root;"; fi
sed -e "s|@DIR@|$work|g" -e "s|@PORT@|$nginx_port|g" -e "s|@USER@|$user_line|g" \
  "$SCRIPT_DIR/nginx.conf.in" >"$work/nginx.conf"
cp "$work/nginx.conf" "$out/raw/nginx.conf"
log "starting nginx on 127.0.0.1:$nginx_port"
start_server nginx "$nginx_port" nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log"
check_http nginx "$nginx_port"
log "starting srv --strategy=epoll --protocol=http"
start_srv srv-http --protocol=http --listen 127.0.0.1:0
srv_http_port=$srv_port
check_http srv "$srv_http_port"

response_bytes="GET / response on the wire: nginx $(wc -c <"$out/raw/nginx-get.txt") bytes,"
response_bytes+=" srv $(wc -c <"$out/raw/srv-get.txt") bytes"
log "$response_bytes"

run_wrk wrk-nginx nginx "http://127.0.0.1:$nginx_port/" 1
sleep 0.5
run_loadtest loadtest-nginx nginx "$nginx_port" http "$kHttpConnections"
sleep 0.5
run_loadtest loadtest-srv srv "$srv_http_port" http "$kHttpConnections"
sleep 0.5
run_wrk wrk-srv srv "http://127.0.0.1:$srv_http_port/" 1
sleep 0.5
run_wrk wrk-pipelined-nginx nginx "http://127.0.0.1:$nginx_port/" "$kPipeline"
sleep 0.5
run_wrk wrk-pipelined-srv srv "http://127.0.0.1:$srv_http_port/" "$kPipeline"
stop_servers

# RESP: redis-server and srv, redis-benchmark and srv-loadtest.
redis_port=$(free_port)
log "starting redis-server on 127.0.0.1:$redis_port"
start_server redis-server "$redis_port" redis-server --port "$redis_port" --bind 127.0.0.1 \
  --save '' --appendonly no --daemonize no
check_resp redis-server "$redis_port"
log "starting srv --strategy=epoll --protocol=resp"
start_srv srv-resp --protocol=resp --listen 127.0.0.1:0
srv_resp_port=$srv_port
check_resp srv "$srv_resp_port"

pipelined_requests=$((requests * kPipelinedFactor))
for command in ping set get; do
  run_redis_benchmark "rb-redis-$command" redis-server "$redis_port" "$command" "$requests"
  sleep 0.5
  run_loadtest "loadtest-redis-$command" redis-server "$redis_port" resp "$kRespConnections" \
    --mix "$command:1" --size 3
  sleep 0.5
done
for command in ping set get; do
  run_redis_benchmark "rb-srv-$command" srv "$srv_resp_port" "$command" "$requests"
  sleep 0.5
  run_loadtest "loadtest-srv-$command" srv "$srv_resp_port" resp "$kRespConnections" \
    --mix "$command:1" --size 3
  sleep 0.5
done
for command in ping set get; do
  run_redis_benchmark "rb-pipelined-redis-$command" redis-server "$redis_port" "$command" \
    "$pipelined_requests" -P "$kPipeline"
  sleep 0.5
  run_redis_benchmark "rb-pipelined-srv-$command" srv "$srv_resp_port" "$command" \
    "$pipelined_requests" -P "$kPipeline"
  sleep 0.5
done
stop_servers

# TLS: the same servers with TLS on one throwaway ECDSA P-256 certificate (their own processes,
# started after the plain ones are stopped), and the same load generators speaking it.
tls_cert=$work/tls-cert.pem
tls_key=$work/tls-key.pem
if ((tls)); then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls_key" \
    -out "$tls_cert" -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >"$work/openssl-req.log" 2>&1 ||
    die "openssl req (the throwaway certificate) failed: $(tail -n 3 "$work/openssl-req.log")"
  cp "$tls_cert" "$out/raw/tls-cert.pem"
  tls_load=(--tls --tls-ca "$tls_cert")

  nginx_tls_port=$(free_port)
  sed -e "s|@DIR@|$work|g" -e "s|@PORT@|$nginx_tls_port|g" -e "s|@USER@|$user_line|g" \
    -e "s|@CERT@|$tls_cert|g" -e "s|@KEY@|$tls_key|g" -e "s|@SUITE@|$kTls13Suite|g" \
    -e "s|@CIPHER@|$kTls12Cipher|g" -e "s|@GROUP@|$kTlsGroup|g" \
    "$SCRIPT_DIR/nginx-tls.conf.in" >"$work/nginx-tls.conf"
  cp "$work/nginx-tls.conf" "$out/raw/nginx-tls.conf"
  log "starting nginx with TLS on 127.0.0.1:$nginx_tls_port"
  start_server nginx-tls "$nginx_tls_port" nginx -p "$work" -c "$work/nginx-tls.conf" \
    -e "$work/nginx-error.log"
  check_http nginx-tls "$nginx_tls_port" https
  tls_params nginx "$nginx_tls_port"
  srv_tls_config "$work/srv-http-tls.yaml" http
  cp "$work/srv-http-tls.yaml" "$out/raw/srv-http-tls.yaml"
  log "starting srv --strategy=epoll with a TLS http listener"
  start_srv srv-http-tls --config "$work/srv-http-tls.yaml"
  srv_https_port=$srv_port
  check_http srv-tls "$srv_https_port" https
  tls_params srv "$srv_https_port"

  run_wrk wrk-tls-nginx nginx "https://127.0.0.1:$nginx_tls_port/" 1
  sleep 0.5
  run_loadtest loadtest-tls-nginx nginx "$nginx_tls_port" http "$kHttpConnections" "${tls_load[@]}"
  sleep 0.5
  run_loadtest loadtest-tls-srv srv "$srv_https_port" http "$kHttpConnections" "${tls_load[@]}"
  sleep 0.5
  run_wrk wrk-tls-srv srv "https://127.0.0.1:$srv_https_port/" 1
  for mode in full resumed; do
    churn=(--requests-per-connection 1)
    if [[ $mode == resumed ]]; then churn+=(--tls-resume); fi
    sleep 0.5
    run_loadtest "loadtest-$mode-nginx" nginx "$nginx_tls_port" http "$kHttpConnections" \
      "${tls_load[@]}" "${churn[@]}"
    sleep 0.5
    run_loadtest "loadtest-$mode-srv" srv "$srv_https_port" http "$kHttpConnections" \
      "${tls_load[@]}" "${churn[@]}"
  done
  # wrk opens a new connection, with a full handshake, after each reply the server closes.
  sleep 0.5
  run_wrk wrk-full-nginx nginx "https://127.0.0.1:$nginx_tls_port/" 1 -H "Connection: close"
  stop_servers

  redis_tls_port=$(free_port)
  log "starting redis-server with TLS on 127.0.0.1:$redis_tls_port"
  start_server redis-server-tls "$redis_tls_port" redis-server --port 0 \
    --tls-port "$redis_tls_port" --bind 127.0.0.1 --tls-cert-file "$tls_cert" \
    --tls-key-file "$tls_key" --tls-ca-cert-file "$tls_cert" --tls-auth-clients no \
    --tls-protocols "TLSv1.2 TLSv1.3" --tls-ciphersuites "$kTls13Suite" \
    --tls-ciphers "$kTls12Cipher" --save '' --appendonly no --daemonize no
  redis_tls=(--tls --cacert "$tls_cert")
  check_resp redis-server-tls "$redis_tls_port" "${redis_tls[@]}"
  tls_params redis-server "$redis_tls_port"
  srv_tls_config "$work/srv-resp-tls.yaml" resp
  cp "$work/srv-resp-tls.yaml" "$out/raw/srv-resp-tls.yaml"
  log "starting srv --strategy=epoll with a TLS resp listener"
  start_srv srv-resp-tls --config "$work/srv-resp-tls.yaml"
  srv_resp_tls_port=$srv_port
  check_resp srv-tls "$srv_resp_tls_port" "${redis_tls[@]}"
  tls_params srv-resp "$srv_resp_tls_port"

  for command in ping set get; do
    for target in redis:"$redis_tls_port":redis-server srv:"$srv_resp_tls_port":srv; do
      IFS=: read -r tag port server <<<"$target"
      sleep 0.5
      run_redis_benchmark "rb-tls-$tag-$command" "$server" "$port" "$command" "$requests" \
        "${redis_tls[@]}"
      sleep 0.5
      run_loadtest "loadtest-tls-$tag-$command" "$server" "$port" resp "$kRespConnections" \
        --mix "$command:1" --size 3 "${tls_load[@]}"
    done
  done
  stop_servers
fi

others=$(awk -v s="$(($(system_ticks) - system_ticks_before))" \
  -v o="$(($(own_ticks) - own_ticks_before))" -v t0="$runs_started" -v t1="$(date +%s.%N)" \
  -v hz="$(getconf CLK_TCK)" -v n="$cpus" \
  'BEGIN { x = 100 * (s - o) / hz / ((t1 - t0) * n); printf "%d", (x < 0 ? 0 : x + 0.5) }')
log "other processes took ${others}% of the CPUs during the runs"
if ((others > 5)); then
  busy="${busy:+$busy; }other processes took ${others}% of the CPUs during the runs"
fi
if [[ -n $busy ]]; then
  busy="$busy: they competed with the servers and load generators, so the figures are noisy"
fi

# ---------------------------------------------------------------------------------------------
# The report: a table on stdout, peers.md and peers.json in $out.

first_line() { "$@" 2>&1 | head -n1 || true; }
cpu_model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1 || true)
git_rev=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)
export PEERS_OUT=$out PEERS_MEASUREMENTS=$measurements PEERS_PINNING=$pinning
export PEERS_DURATION=$duration PEERS_REQUESTS=$requests PEERS_PIPELINE=$kPipeline
export PEERS_PIPELINED_REQUESTS=$pipelined_requests
export PEERS_HTTP_CONNECTIONS=$kHttpConnections PEERS_RESP_CONNECTIONS=$kRespConnections
export PEERS_CPU=${cpu_model:-unknown} PEERS_NPROC=$cpus PEERS_KERNEL
PEERS_KERNEL=$(uname -sr)
export PEERS_LOADAVG PEERS_LOAD_BEFORE=$load_before PEERS_BUSY=$busy
export PEERS_RESPONSE_BYTES=$response_bytes PEERS_OTHERS=$others PEERS_TLS=$tls
export PEERS_TLS_SEEN=$tls_seen
PEERS_LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
export PEERS_NGINX PEERS_REDIS PEERS_WRK PEERS_REDIS_BENCHMARK PEERS_SRV
PEERS_NGINX=$(first_line nginx -v | sed 's/^nginx version: //')
PEERS_REDIS=$(first_line redis-server --version | sed -n 's/.*\(v=[^ ]*\).*/redis-server \1/p')
PEERS_WRK=$(first_line wrk -v | cut -d' ' -f1-2)
PEERS_REDIS_BENCHMARK=$(first_line redis-benchmark --version)
PEERS_SRV="$(first_line "$srv_bin" --version) ($git_rev, ${build_type:-unknown} build)"
export PEERS_DATE
PEERS_DATE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

status=0
python3 - <<'PY' || status=$?
import csv, json, os, sys

env = os.environ
out = env["PEERS_OUT"]
m = {}
with open(env["PEERS_MEASUREMENTS"], newline="") as f:
    for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
        key, tool, server, command, rps, errors, note, raw, server_cpu, client_cpu = row
        m[key] = {"tool": tool, "server": server, "command": command,
                  "rps": float(rps) if rps else None, "errors": int(errors or 0),
                  "note": note, "raw": raw,
                  "server_cpu_percent": int(server_cpu) if server_cpu.isdigit() else None,
                  "client_cpu_percent": int(client_cpu) if client_cpu.isdigit() else None}

hc, rc, depth = env["PEERS_HTTP_CONNECTIONS"], env["PEERS_RESP_CONNECTIONS"], env["PEERS_PIPELINE"]
# id, what is compared (A vs B), the load, A's measurement, B's measurement, target for A/B
comparisons = [
    ("1", "srv-loadtest vs wrk", f"nginx, GET /, {hc} conns", "loadtest-nginx", "wrk-nginx", 0.95),
]
for i, c in enumerate(["ping", "set", "get"]):
    comparisons.append((f"2{'abc'[i]}", "srv-loadtest vs redis-benchmark",
                        f"redis-server, {c.upper()}, {rc} conns",
                        f"loadtest-redis-{c}", f"rb-redis-{c}", 0.95))
comparisons += [
    ("3a", "srv vs nginx", f"wrk, GET /, {hc} conns", "wrk-srv", "wrk-nginx", 1.3),
    ("3b", "srv vs nginx", f"wrk, GET /, {hc} conns, {depth} pipelined", "wrk-pipelined-srv",
     "wrk-pipelined-nginx", 3.0),
]
for i, c in enumerate(["ping", "set", "get"]):
    comparisons.append((f"4{'abc'[i]}", "srv resp vs redis-server",
                        f"redis-benchmark, {c.upper()}, {rc} conns", f"rb-srv-{c}",
                        f"rb-redis-{c}", 1.1))
for i, c in enumerate(["ping", "set", "get"]):
    comparisons.append((f"4{'def'[i]}", "srv resp vs redis-server",
                        f"redis-benchmark, {c.upper()}, {rc} conns, -P {depth}",
                        f"rb-pipelined-srv-{c}", f"rb-pipelined-redis-{c}", 1.0))
# Extra, no target: the same server comparisons driven by srv-loadtest, which (unlike a
# single-threaded wrk or redis-benchmark on one CPU) can keep a one-CPU server busy.
comparisons.append(("5a", "srv vs nginx", f"srv-loadtest, GET /, {hc} conns", "loadtest-srv",
                    "loadtest-nginx", None))
for i, c in enumerate(["ping", "set", "get"]):
    comparisons.append((f"5{'bcd'[i]}", "srv resp vs redis-server",
                        f"srv-loadtest, {c.upper()}, {rc} conns", f"loadtest-srv-{c}",
                        f"loadtest-redis-{c}", None))

if env["PEERS_TLS"] == "1":
    comparisons += [
        ("6a", "srv-loadtest vs wrk", f"nginx TLS, GET /, {hc} conns", "loadtest-tls-nginx",
         "wrk-tls-nginx", 0.95),
        ("6b", "srv vs nginx", f"TLS, wrk, GET /, {hc} conns", "wrk-tls-srv", "wrk-tls-nginx",
         None),
        ("6c", "srv vs nginx", f"TLS, srv-loadtest, GET /, {hc} conns", "loadtest-tls-srv",
         "loadtest-tls-nginx", None),
        ("6d", "srv vs nginx", f"TLS, srv-loadtest, new connection per request (full handshake), "
         f"{hc} conns", "loadtest-full-srv", "loadtest-full-nginx", None),
        ("6e", "srv vs nginx", f"TLS, srv-loadtest, new connection per request (resumed), "
         f"{hc} conns", "loadtest-resumed-srv", "loadtest-resumed-nginx", None),
        ("6f", "srv-loadtest vs wrk", f"nginx TLS, new connection per request (wrk: Connection: "
         f"close), {hc} conns", "loadtest-full-nginx", "wrk-full-nginx", None),
    ]
    for i, c in enumerate(["ping", "set", "get"]):
        comparisons.append((f"7{'abc'[i]}", "srv-loadtest vs redis-benchmark",
                            f"redis-server TLS, {c.upper()}, {rc} conns",
                            f"loadtest-tls-redis-{c}", f"rb-tls-redis-{c}", 0.95))
    for i, c in enumerate(["ping", "set", "get"]):
        comparisons.append((f"7{'def'[i]}", "srv resp vs redis-server",
                            f"TLS, redis-benchmark, {c.upper()}, {rc} conns", f"rb-tls-srv-{c}",
                            f"rb-tls-redis-{c}", None))
    for i, c in enumerate(["ping", "set", "get"]):
        comparisons.append((f"7{'ghi'[i]}", "srv resp vs redis-server",
                            f"TLS, srv-loadtest, {c.upper()}, {rc} conns", f"loadtest-tls-srv-{c}",
                            f"loadtest-tls-redis-{c}", None))

def fmt_rps(v):
    return "-" if v is None else f"{v:,.0f}"

def fmt_cpu(x):
    if x is None or x["server_cpu_percent"] is None:
        return "-"
    return f"{x['server_cpu_percent']}/{x['client_cpu_percent']}"

def cpu_per_request(x):
    """Microseconds of the server's CPU per request: how busy its pinned CPU was, over the
    requests it answered. On 2 cores the client often saturates first, so this, not req/s, says
    what a request costs the server."""
    if x is None or not x["rps"] or x["server_cpu_percent"] is None:
        return None
    return x["server_cpu_percent"] * 1e4 / x["rps"]

def fmt_us(v):
    return "-" if v is None else f"{v:.1f}"

# Issue 11's goals for srv's CPU per request against the other server's (A/B at most this).
cpu_targets = {"3a": 0.75, "4b": 0.9, "4c": 0.9}

rows, results, notes, bad = [], [], [], False
cpu_rows = []
for cid, what, load, a_key, b_key, target in comparisons:
    a, b = m.get(a_key), m.get(b_key)
    failed = [k for k, x in ((a_key, a), (b_key, b)) if x is None or x["rps"] is None]
    errored = [k for k, x in ((a_key, a), (b_key, b)) if x is not None and x["errors"] > 0]
    ratio = None
    if failed:
        result = "FAILED"
    else:
        ratio = a["rps"] / b["rps"] if b["rps"] else None
        if target is None:
            result = "(extra)"
        else:
            result = "met" if ratio is not None and ratio >= target else "not met"
        if errored:
            result += ", ERRORS"
        # Which side set the pace: a CPU >= 95% busy in both runs.
        cpus = [(x["server_cpu_percent"], x["client_cpu_percent"]) for x in (a, b)]
        if all(s is not None for s, _ in cpus):
            client_bound = all(c >= 95 for _, c in cpus)
            server_bound = all(s >= 95 for s, _ in cpus)
            if what.startswith("srv-loadtest vs") and server_bound:
                notes.append(f"{cid}: the server was >= 95% busy in both runs, so it set the "
                             "pace: the ratio is not the load generators' own capacity")
            elif not what.startswith("srv-loadtest vs") and client_bound and not server_bound:
                notes.append(f"{cid}: the load generator was >= 95% busy in both runs, so it set "
                             "the pace: the ratio says more about it than about the servers")
    if failed or errored:
        bad = True
    if not what.startswith("srv-loadtest vs"):
        ua, ub = cpu_per_request(a), cpu_per_request(b)
        cpu_ratio = ua / ub if ua is not None and ub else None
        cpu_target = cpu_targets.get(cid)
        cpu_result = "-" if cpu_ratio is None or cpu_target is None else (
            "met" if cpu_ratio <= cpu_target else "not met")
        cpu_rows.append([cid, what, load, fmt_us(ua), fmt_us(ub),
                         "-" if cpu_ratio is None else f"{cpu_ratio:.2f}x",
                         "-" if cpu_target is None else f"<= {cpu_target:g}x", cpu_result])
        results_cpu = {"a_us_per_request": ua, "b_us_per_request": ub, "cpu_ratio": cpu_ratio,
                       "cpu_target": cpu_target}
    else:
        results_cpu = {}
    rows.append([cid, what, load, fmt_rps(a and a["rps"]), fmt_rps(b and b["rps"]),
                 "-" if ratio is None else f"{ratio:.2f}x",
                 "-" if target is None else f">= {target:g}x", result, fmt_cpu(a), fmt_cpu(b)])
    results.append({"id": cid, "comparison": what, "load": load, "a": a_key, "b": b_key,
                    "a_rps": a and a["rps"], "b_rps": b and b["rps"], "ratio": ratio,
                    "target": target, "result": result, **results_cpu})
notes += [f"{key}: {x['note']}" for key, x in m.items() if x["note"]]

header = ["#", "comparison (A vs B)", "load", "A req/s", "B req/s", "A/B", "target", "result",
          "A CPU% s/c", "B CPU% s/c"]
widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
right = {3, 4, 5, 8, 9}
def line(r):
    return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                     for i, (c, w) in enumerate(zip(r, widths))).rstrip()

machine = (f"{env['PEERS_CPU']}, nproc {env['PEERS_NPROC']}, {env['PEERS_KERNEL']}; "
           f"{env['PEERS_NGINX']}, {env['PEERS_REDIS']}, {env['PEERS_WRK']}, "
           f"{env['PEERS_REDIS_BENCHMARK']}; {env['PEERS_SRV']}; {env['PEERS_DATE']}")
settings = (f"duration {env['PEERS_DURATION']}s per wrk/srv-loadtest run (srv-loadtest after a 1s "
            f"warm-up); redis-benchmark -n {env['PEERS_REQUESTS']} "
            f"(-n {env['PEERS_PIPELINED_REQUESTS']} with -P {depth}); "
            f"wrk and srv-loadtest with 1 thread; nginx 1 worker, srv --strategy=epoll (1 loop); "
            f"{env['PEERS_RESPONSE_BYTES']}")
if env["PEERS_TLS"] == "1":
    settings += (f"; TLS: one throwaway ECDSA P-256 certificate, every server forced to TLS 1.3 "
                 f"TLS_AES_128_GCM_SHA256 (TLS 1.2: ECDHE-ECDSA-AES128-GCM-SHA256), X25519; "
                 f"negotiated (openssl s_client): {env['PEERS_TLS_SEEN']}")
load = (f"before the runs: load average {env['PEERS_LOAD_BEFORE']} over 1s; "
        f"after: load average {env['PEERS_LOADAVG']}; "
        f"other processes took {env['PEERS_OTHERS']}% of the CPUs during the runs")
text = [f"machine: {machine}", f"pinning: {env['PEERS_PINNING']}", f"settings: {settings}",
        load]
if env["PEERS_BUSY"]:
    text.append(f"WARNING: {env['PEERS_BUSY']}")
text += ["", line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
text += ["", "CPU% s/c: how busy the server CPU / the load generator CPU was during each run "
         "(100 on the client side: the load generator, not the server, set the pace)."]
cpu_header = ["#", "comparison (A vs B)", "load", "A us CPU/req", "B us CPU/req", "A/B",
              "target", "result"]
cpu_widths = [max(len(str(r[i])) for r in [cpu_header] + cpu_rows) for i in range(len(cpu_header))]
def cpu_line(r):
    return "  ".join(str(c).rjust(w) if i in {3, 4, 5} else str(c).ljust(w)
                     for i, (c, w) in enumerate(zip(r, cpu_widths))).rstrip()
text += ["", "Server CPU per request (the server CPU's busy time over the requests answered):",
         cpu_line(cpu_header), cpu_line(["-" * w for w in cpu_widths])]
text += [cpu_line(r) for r in cpu_rows]
if notes:
    text += ["", "notes:"] + [f"  {n}" for n in notes]
print("\n".join(text))

md = ["# srv and srv-loadtest against nginx, redis-server, wrk and redis-benchmark", "",
      f"- machine: {machine}", f"- pinning: {env['PEERS_PINNING']}", f"- settings: {settings}",
      f"- {load}"] + ([f"- **WARNING: {env['PEERS_BUSY']}**"] if env["PEERS_BUSY"] else []) + ["",
      "Targets are benchmark figures to chase, not pass/fail tests. CPU% s/c: how busy the "
      "server CPU / the load generator CPU was during each run (100 on the client side: the "
      "load generator, not the server, set the pace).", "",
      "| " + " | ".join(header) + " |", "|" + "|".join("---:" if i in right else "---"
                                                       for i in range(len(header))) + "|"]
md += ["| " + " | ".join(r) + " |" for r in rows]
md += ["", "## Server CPU per request", "",
       "Microseconds of the pinned server CPU's busy time per request answered: on 2 cores the "
       "load generator often sets the pace, so this says what a request costs each server. "
       "Targets (issue 11) are for srv's cost at most a fraction of the other server's.", "",
       "| " + " | ".join(cpu_header) + " |",
       "|" + "|".join("---:" if i in {3, 4, 5} else "---" for i in range(len(cpu_header))) + "|"]
md += ["| " + " | ".join(r) + " |" for r in cpu_rows]
if notes:
    md += ["", "Notes:", ""] + [f"- {n}" for n in notes]
md += ["", "## Measurements", "", "| key | req/s | errors | CPU% s/c | command | note |",
       "|---|---:|---:|---:|---|---|"]
for key, x in m.items():
    md.append(f"| {key} | {fmt_rps(x['rps'])} | {x['errors']} | {fmt_cpu(x)} | "
              f"`{x['command']}` | {x['note'].replace('|', '/')} |")
with open(os.path.join(out, "peers.md"), "w") as f:
    f.write("\n".join(md) + "\n")
with open(os.path.join(out, "peers.json"), "w") as f:
    json.dump({"machine": {"cpu": env["PEERS_CPU"], "nproc": int(env["PEERS_NPROC"]),
                           "kernel": env["PEERS_KERNEL"], "nginx": env["PEERS_NGINX"],
                           "redis_server": env["PEERS_REDIS"], "wrk": env["PEERS_WRK"],
                           "redis_benchmark": env["PEERS_REDIS_BENCHMARK"],
                           "srv": env["PEERS_SRV"], "date": env["PEERS_DATE"],
                           "loadavg_before": env["PEERS_LOAD_BEFORE"],
                           "loadavg_after": env["PEERS_LOADAVG"],
                           "others_cpu_percent": int(env["PEERS_OTHERS"]),
                           "busy": env["PEERS_BUSY"]},
               "pinning": env["PEERS_PINNING"],
               "settings": {"duration_s": int(env["PEERS_DURATION"]),
                            "redis_benchmark_requests": int(env["PEERS_REQUESTS"]),
                            "redis_benchmark_pipelined_requests":
                                int(env["PEERS_PIPELINED_REQUESTS"]),
                            "pipeline": int(depth), "http_connections": int(hc),
                            "resp_connections": int(rc),
                            "tls": env["PEERS_TLS"] == "1",
                            "tls_negotiated": env["PEERS_TLS_SEEN"]},
               "comparisons": results, "notes": notes, "measurements": m}, f, indent=2)
    f.write("\n")
sys.exit(1 if bad else 0)
PY
log "results: $out/peers.md, $out/peers.json, raw outputs in $out/raw/"
if ((status != 0)); then
  log "some measurements failed or saw errors (see the notes above)"
fi
exit "$status"
