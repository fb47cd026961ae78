// The load engine: `threads` event loops (epoll), each owning a share of the connections.
// Closed loop keeps `pipeline` requests in flight per connection; open loop (rate > 0) sends
// on a fixed schedule and measures latency from when each request was due, not from when it
// could be sent, so a stalled server shows up in the percentiles (coordinated omission, as in
// wrk2).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "loadtest/histogram.h"
#include "loadtest/results.h"
#include "loadtest/transport.h"
#include "loadtest/workload.h"

namespace srv::loadtest {

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int connections = 64;
  int pipeline = 1;  ///< most requests in flight per connection
  int threads = 1;
  double rate = 0;            ///< total requests/s (open loop); 0 = closed loop
  double duration = 10;       ///< measured seconds
  double warmup = 1;          ///< seconds after the ramp whose replies are not counted
  double ramp = 0;            ///< seconds over which connections are opened
  double reply_timeout = 10;  ///< a connection waiting longer than this for a reply is an error
  int requests_per_connection = 0;  ///< close and reopen after this many replies; 0 = never
  TlsOptions tls;                   ///< TLS on every connection when tls.enabled
};

/// Once a second during the run, on the thread that called run_load.
struct LiveTick {
  double elapsed = 0;        ///< seconds since the start
  bool measuring = false;    ///< false during ramp and warm-up
  double rps = 0;            ///< replies in the last second, warm-up included
  double p99_us = 0;         ///< of the measured replies in the last second
  std::uint64_t errors = 0;  ///< so far
  int open_connections = 0;
};

/// Raises this process's descriptor limit (up to the hard limit) so that `connections` sockets
/// fit; throws std::invalid_argument saying how many are needed if they cannot. Processes
/// started afterwards inherit the limit.
void reserve_descriptors(int connections);

/// Runs the load until the duration is over or `*stop` turns true (may be null). Throws
/// std::invalid_argument for options that cannot work (e.g. more connections than descriptors).
/// `latencies`, if given, receives every measured latency in nanoseconds.
RunResult run_load(const LoadOptions& options, const Workload& workload,
                   const std::function<void(const LiveTick&)>& on_tick,
                   const std::atomic<bool>* stop = nullptr, Histogram* latencies = nullptr);

}  // namespace srv::loadtest
