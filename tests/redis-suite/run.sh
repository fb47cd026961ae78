#!/usr/bin/env bash
# Redis's own Tcl test suite (7.0.15, from Debian's source tarball) against srv's resp protocol,
# in the suite's external-server mode, over loopback only.
#
#   tests/redis-suite/run.sh [--no-skips] [path/to/srv] [unit ...]
#
# The units default to Redis's list units, unit/type/list, list-2 and list-3 (about 10 s, 10 s
# and 50 s on 2 cores: list-3 is mostly two stress tests; list has the blocking commands), and
# unit/pubsub (about 1 s), with build/bin/srv.
#
# Fetches redis_7.0.15.orig.tar.gz once into ${SRV_REDIS_SUITE_CACHE:-~/.cache/srv} and checks
# its size and SHA-256 every run; unpacks it into a scratch directory; starts
# `srv --protocol resp` on a free port (strategy ${SRV_STRATEGY:-epoll}) and runs each unit with
# ./runtest --host/--port, one database (--singledb), the tests listed in skiplist.txt skipped,
# tests tagged for what srv has no counterpart of deselected (--tags), encodings not checked.
# srv_adapter.tcl answers the harness's own set-up calls that srv lacks (see that file).
# Some tests send commands on two connections without waiting for a reply in between and count
# on their running in the order sent, as one event loop runs them (Redis's, or srv's epoll):
# "BRPOPLPUSH with multiple blocked clients" and "PUBLISH/SUBSCRIBE after UNSUBSCRIBE without
# arguments" (whose UNSUBSCRIBE is never read). Under fork or thread, where each connection has
# its own process or thread, they now and then see the other order (a hang, a stale count).
# --no-skips runs the skipped tests too: to see which pass once srv gains a command.
#
# Prints `ok - ...` / `not ok - ...` per unit (with how many tests passed, were skipped and
# deselected) and `N passed, M failed` last; exits 1 on failure, including (when the default
# units run) a skiplist.txt name that no test has. Needs tclsh (Debian's tcl), curl, sha256sum,
# tar and timeout.

set -euo pipefail

no_skips=0
if [[ ${1-} == --no-skips ]]; then
  no_skips=1
  shift
fi
SRV=${1:-build/bin/srv}
if (($# > 0)); then shift; fi
units=("$@")
default_units=0
if ((${#units[@]} == 0)); then
  units=(unit/type/list unit/type/list-2 unit/type/list-3 unit/pubsub)
  default_units=1
fi

SUITE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
source "$SUITE_DIR/../integration/lib.sh"

readonly kVersion=7.0.15
readonly kTarball=redis_$kVersion.orig.tar.gz
readonly kUrl=http://deb.debian.org/debian/pool/main/r/redis/$kTarball
readonly kSha256=4b1dc4ee6d622a09fff9c6777191209750fb5e5a725ef78ea012d6eef4c22982
readonly kSize=3025940
readonly kFetchTimeout=300  # seconds for the download
readonly kUnitTimeout=300   # seconds for one unit, all its tests
# What srv has no counterpart of: DEBUG, replication, RESP3 (HELLO 3), CONFIG SET maxmemory,
# SAVE/BGSAVE, RESET. (The suite itself adds external:skip and singledb:skip.)
readonly kDeniedTags="-needs:debug -needs:repl -resp3 -needs:config-maxmemory -needs:save \
-needs:reset"

harness_init srv-redis-suite
require_tools --hint "(scripts/install-deps.sh --test)" tclsh curl sha256sum tar timeout

# fetch: the tarball in the cache, downloaded if absent, checked either way. Returns 1 (after
# diagnostics) if it cannot be had or is not the expected file.
cache=${SRV_REDIS_SUITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/srv}
tarball=$cache/$kTarball
fetch() {
  mkdir -p "$cache"
  if [[ ! -f $tarball ]]; then
    echo "fetching $kUrl" >&2
    if ! curl -fsSL --max-time "$kFetchTimeout" -o "$tarball.part" "$kUrl"; then
      echo "cannot download $kUrl" | diag
      rm -f "$tarball.part"
      return 1
    fi
    mv "$tarball.part" "$tarball"
  fi
  local size sum
  size=$(stat -c %s "$tarball")
  sum=$(sha256sum "$tarball" | awk '{print $1}')
  if [[ $size != "$kSize" || $sum != "$kSha256" ]]; then
    printf '%s: %s bytes, sha256 %s; want %s bytes, sha256 %s (delete it to fetch again)\n' \
      "$tarball" "$size" "$sum" "$kSize" "$kSha256" | diag
    return 1
  fi
}

# must DESCRIPTION COMMAND...: a check that ends the script when it fails.
must() {
  local description=$1
  shift
  if "$@"; then
    ok "$description"
  else
    not_ok "$description"
    harness_finish || exit 1
  fi
}

must "Redis $kVersion source tarball fetched and verified (sha256)" fetch
tar -xzf "$tarball" -C "$WORK"
suite=$WORK/redis-$kVersion
mkdir -p "$suite/tests/srv"
cp "$SUITE_DIR/srv_adapter.tcl" "$suite/tests/srv/adapter.tcl"
grep -v -e '^#' -e '^$' "$SUITE_DIR/skiplist.txt" >"$WORK/skipfile" || true
skip_args=(--skipfile "$WORK/skipfile")
if ((no_skips)); then skip_args=(); fi

must "srv --protocol resp starts" start_srv suite --strategy "${SRV_STRATEGY:-epoll}" \
  --protocol resp --listen 127.0.0.1:0

# run_unit UNIT: one unit of the suite against srv; its output (colours removed) in
# $WORK/UNIT.out. Returns 1 if any test failed or the run did not finish.
run_unit() {
  local unit=$1 out=$WORK/${1//\//_}.out rc=0 started=$SECONDS
  (cd "$suite" && SRV_REDIS_UNIT=$unit timeout "$kUnitTimeout" ./runtest --host 127.0.0.1 \
    --port "$SRV_PORT" --singledb --single srv/adapter --clients 1 --durable --timeout 60 \
    --ignore-encoding --tags "$kDeniedTags" "${skip_args[@]}") 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g' >"$out" || rc=$?
  local passed skipped deselected failed
  passed=$(grep -c '^\[ok\]' "$out" || true)
  skipped=$(grep -c '^\[skip\]' "$out" || true)
  deselected=$(grep -c '^\[ignore\]' "$out" || true)
  failed=$(grep -c -E '^\[(err|exception)\]' "$out" || true)
  printf '%s: %d passed, %d skipped (skiplist.txt), %d deselected by tag, %d failed, %d s\n' \
    "$unit" "$passed" "$skipped" "$deselected" "$failed" "$((SECONDS - started))" >&2
  if ((rc != 0 || failed != 0)) || ! grep -q 'All tests passed without errors' "$out"; then
    grep -E -A12 '^\*\*\* \[(err|exception)\]|^\[(exception|TIMEOUT)\]' "$out" | head -n 80 | diag
    ((rc == 0)) || echo "runtest exited with status $rc" | diag
    return 1
  fi
}

for unit in "${units[@]}"; do
  check "Redis $kVersion $unit against srv (tests whose commands srv has all pass)" \
    run_unit "$unit"
done

# Every name in skiplist.txt is a test the suite reported as skipped: a renamed or misspelt
# entry would otherwise skip nothing and go unnoticed. (skiplist.txt is for the default units.)
stale_skips() {
  local name stale=0
  while IFS= read -r name; do
    if ! grep -h -q -F -x "[skip]: $name" "$WORK"/*.out; then
      echo "no test named '$name'" | diag
      stale=1
    fi
  done <"$WORK/skipfile"
  ((stale == 0))
}
if ((!no_skips && default_units)); then
  check "every skiplist.txt entry names a test of the units run" stale_skips
fi

check "srv exits cleanly on SIGTERM" stop_srv
check "srv's log has no errors" clean_log
harness_finish
