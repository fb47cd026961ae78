#!/usr/bin/env bash
# The admin listener under every strategy, with real clients, over loopback only.
#
#   tests/integration/metrics.sh [path/to/srv]      (default: build/bin/srv)
#
# For every strategy that `srv --list-strategies` prints, starts srv with an http listener, a
# resp listener and an admin listener (allow: 127.0.0.1/32), makes a known number of requests
# with curl and redis-cli, and checks: `promtool check metrics` accepts /metrics without a
# word; the metric names are the same under every strategy; requests, errors, accepted
# connections and bytes moved by exactly what was done; /healthz answers 200; /status is JSON
# naming the strategy; a peer outside the allow list (127.0.0.2) gets 403. Prints `ok - ...` /
# `not ok - ...` per check and `N passed, M failed` last. Needs curl, redis-cli, promtool (Debian's
# prometheus package) and jq. Every wait is bounded.

set -euo pipefail

SRV=${1:-build/bin/srv}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"
readonly kClientTimeout=10  # seconds for one curl or redis-cli call

harness_init srv-metrics-integration
require_tools --hint "(scripts/install-deps.sh --test)" curl redis-cli promtool jq timeout awk

# port_of PROTOCOL: the port of the listener serving PROTOCOL, from the server's log.
port_of() {
  sed -n "s/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\) protocol=$1 .*/\1/p" "$SRV_LOG" | head -n1
}

# admin PATH [CURL ARGS...]: GET PATH from the admin listener; prints the body.
admin() {
  local path=$1
  shift
  timeout "$kClientTimeout" curl -sS "$@" "http://127.0.0.1:$admin_port$path"
}

# value FILE SAMPLE: the value of the sample line starting with SAMPLE (name and labels), or 0.
value() {
  awk -v want="$2" 'index($0, want " ") == 1 { print $NF; found = 1 } END { if (!found) print 0 }' "$1"
}

# moved SAMPLE WANT: the sample grew by exactly WANT between before.txt and after.txt.
moved() {
  local before after
  before=$(value "$WORK/before.txt" "$1")
  after=$(value "$WORK/after.txt" "$1")
  if ((after - before != $2)); then
    echo "$1: $before -> $after, want +$2" | diag
    return 1
  fi
}

# grew SAMPLE: the sample is larger after than before.
grew() {
  local before after
  before=$(value "$WORK/before.txt" "$1")
  after=$(value "$WORK/after.txt" "$1")
  if ((after <= before)); then
    echo "$1: $before -> $after, want more" | diag
    return 1
  fi
}

promtool_quiet() {
  local said
  if ! said=$(promtool check metrics <"$WORK/after.txt" 2>&1) || [[ -n $said ]]; then
    echo "$said" | diag
    return 1
  fi
}

same_names() {
  grep '^# TYPE ' "$WORK/after.txt" | awk '{print $3}' | sort >"$WORK/names-$1.txt"
  [[ -z $first_names ]] && first_names=$WORK/names-$1.txt
  if ! diff "$first_names" "$WORK/names-$1.txt" | diag; then return 1; fi
}

# Requests made between the scrapes: 3 good and 1 bad over http (4 connections), 2 good and
# 1 unknown command over resp (3 connections).
make_requests() {
  for _ in 1 2 3; do timeout "$kClientTimeout" curl -sS -o /dev/null "http://127.0.0.1:$http_port/"; done
  timeout "$kClientTimeout" curl -sS -o /dev/null "http://127.0.0.1:$http_port/nope"
  timeout "$kClientTimeout" redis-cli -p "$resp_port" SET metrics:key v >/dev/null
  timeout "$kClientTimeout" redis-cli -p "$resp_port" GET metrics:key >/dev/null
  timeout "$kClientTimeout" redis-cli -p "$resp_port" NOSUCHCOMMAND >/dev/null
}

status_names() {
  local got
  got=$(admin /status | jq -r .strategy) || return 1
  [[ $got == "$1" ]] || { echo "strategy: $got" | diag; return 1; }
}

forbidden_elsewhere() {
  local code
  code=$(admin /metrics --interface 127.0.0.2 -o /dev/null -w '%{http_code}') || return 1
  [[ $code == 403 ]] || { echo "HTTP $code" | diag; return 1; }
}

# The listeners' labels, set per strategy below.
http=""
resp=""
http_counts() {
  moved "srv_requests_total{$http,protocol=\"http\"}" 4 &&
    moved "srv_request_errors_total{$http,protocol=\"http\",kind=\"4xx\"}" 1 &&
    moved "srv_request_duration_seconds_count{$http,protocol=\"http\"}" 4
}
resp_counts() {
  moved "srv_requests_total{$resp,protocol=\"resp\"}" 3 &&
    moved "srv_request_errors_total{$resp,protocol=\"resp\",kind=\"err\"}" 1
}
connection_counts() {
  moved "srv_connections_accepted_total{$http}" 4 && moved "srv_connections_accepted_total{$resp}" 3 &&
    grew "srv_bytes_received_total{$http}" && grew "srv_bytes_sent_total{$resp}"
}
processes_counted() { (($(value "$WORK/after.txt" srv_processes) >= 1)); }
healthy() { [[ $(admin /healthz -o /dev/null -w '%{http_code}') == 200 ]]; }

first_names=""
list_strategies
for strategy in $strategies; do
  cat >"$WORK/$strategy.yaml" <<YAML
strategy: $strategy
listeners:
  - {listen: 127.0.0.1:0, protocol: http}
  - {listen: 127.0.0.1:0, protocol: resp}
admin: {listen: 127.0.0.1:0, allow: [127.0.0.1/32]}
YAML
  if ! start_srv "metrics-$strategy" -c "$WORK/$strategy.yaml"; then
    not_ok "$strategy: srv starts with an admin listener"
    continue
  fi
  http_port=$(port_of http)
  resp_port=$(port_of resp)
  admin_port=$(port_of admin)
  admin /metrics >"$WORK/before.txt" || true
  make_requests || true
  admin /metrics >"$WORK/after.txt" || true
  http="listener=\"127.0.0.1:$http_port\""
  resp="listener=\"127.0.0.1:$resp_port\""
  check "$strategy: promtool check metrics accepts /metrics without a warning" promtool_quiet
  check "$strategy: the metric names are those of every other strategy" same_names "$strategy"
  check "$strategy: http requests +4, 4xx errors +1" http_counts
  check "$strategy: resp commands +3, err +1" resp_counts
  check "$strategy: connections accepted +4 (http) and +3 (resp), bytes both ways" \
    connection_counts
  check "$strategy: srv_processes counts at least the server" processes_counted
  check "$strategy: /healthz answers 200" healthy
  check "$strategy: /status is JSON naming the strategy" status_names "$strategy"
  check "$strategy: a peer outside allow (127.0.0.2) gets 403" forbidden_elsewhere
  check "$strategy: srv stops cleanly" stop_srv
  check "$strategy: the log is clean" clean_log
done

harness_finish
