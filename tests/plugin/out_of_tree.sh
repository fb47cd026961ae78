#!/usr/bin/env bash
# Installs srv into a temporary prefix, builds protocols/examples/shout against it as an
# out-of-tree project (find_package(srv) + srv_add_protocol_plugin), and runs the conformance
# suite on the resulting plugin under every strategy.
#   tests/plugin/out_of_tree.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/protocols/examples/shout" -B "$tmp/shout" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$tmp/shout" >/dev/null
test -f "$tmp/shout/libshout.so"
# The README's tutorial plugin builds the same way.
cmake -S "$src/protocols/examples/tutorial" -B "$tmp/upper" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  >/dev/null
cmake --build "$tmp/upper" >/dev/null
test -f "$tmp/upper/libupper.so"
SRV_TEST_PLUGINS="$tmp/shout/libshout.so" "$build/bin/srv_conformance_tests" \
  --gtest_filter='*_plugin_shout'
