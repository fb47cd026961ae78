#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs srv. With no arguments srv runs its
# embedded default config (an echo service on 127.0.0.1:7000 under epoll); any arguments are
# passed to srv, e.g.  scripts/serve.sh --strategy=prefork --listen 127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target srv -j"$(nproc)"
exec build/bin/srv "$@"
