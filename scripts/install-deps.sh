#!/usr/bin/env bash
# Installs the Debian 12 packages srv needs, only those that are missing.
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --test   also the real clients the integration tests drive
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libyaml-cpp-dev   # config files, with line:column for every node
  libcli11-dev      # command line
  libspdlog-dev libfmt-dev  # logs and formatting
  libgtest-dev      # the test suite
  libboost-dev      # Boost.Interprocess containers of the resp keyspace (header-only)
  nlohmann-json3-dev  # srv-loadtest's --json output and results.json
  gnuplot-nox       # plots of srv-loadtest compare
  libssl-dev        # TLS on any listener (OpenSSL 3)
  libevent-dev      # the libevent strategy (event_base, events, timers: libevent_core only)
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(
    netcat-openbsd socat  # real clients of the integration tests
    procps                # ps/pgrep for checking what a server leaves behind
    curl wrk              # HTTP clients of tests/integration/http.sh
    clang libclang-rt-14-dev  # libFuzzer and sanitizers for tests/fuzz/run.sh
    redis-tools           # redis-cli and redis-benchmark for tests/integration/resp.sh
    tcl                   # tclsh: Redis's own test suite, tests/redis-suite/run.sh
    jq                    # tests/integration/loadtest.sh reads srv-loadtest --json
    libxml2-utils         # xmllint: the report test checks the SVGs
    openssl               # tests/integration/tls.sh: makes its certificates, drives s_client;
                          # tests/integration/loadtest.sh: certificates for its TLS runs
    nginx-light redis-server  # TLS peers that tests/integration/loadtest.sh loads with --tls;
                              # redis-server: the reference RespReference compares replies with
    prometheus            # promtool: tests/integration/metrics.sh checks /metrics with
                          # `promtool check metrics` (no other package ships it; ~96 MB)
    python3-redis         # the job queue example (examples/jobqueue/), which
                          # tests/integration/jobqueue.sh runs under every strategy; and
                          # tests/integration/blocking.py (BLPOP from threads, pub/sub)
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
