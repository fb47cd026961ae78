// What one load run measured and what the server process tree used meanwhile: the data that
// srv-loadtest prints, that `compare` collects per (strategy, scenario) and that the report draws.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace srv::loadtest {

/// Latency percentiles of the replies that counted (after warm-up), in microseconds.
struct LatencySummary {
  std::uint64_t count = 0;
  double mean_us = 0, p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, p9999_us = 0, max_us = 0;
};

/// One scenario as it was run, and its outcome.
struct RunResult {
  std::string protocol;  ///< echo, http, resp or template
  std::string target;    ///< HOST:PORT
  int connections = 0;
  int pipeline = 1;  ///< requests in flight per connection
  int threads = 1;
  double rate = 0;                  ///< requests/s of the open loop; 0 = closed loop
  std::size_t size = 0;             ///< echo message, http POST body or resp value size in bytes
  std::string mix;                  ///< resp command mix, e.g. "ping:1,set:1,get:1"
  int requests_per_connection = 0;  ///< a new connection after this many replies; 0 = keep-alive
  double seconds = 0;               ///< measured time (after warm-up)
  std::uint64_t requests = 0;       ///< replies received and verified during the measured time
  std::uint64_t errors = 0;         ///< wrong replies, missing replies, failed connects, ...
  std::map<std::string, std::uint64_t>
      error_kinds;  ///< errors by kind ("connect", "bad reply", ...)
  std::map<std::string, std::string> first_errors;   ///< kind -> the first message of that kind
  std::uint64_t bytes_sent = 0, bytes_received = 0;  ///< during the measured time
  double rps = 0;                                    ///< requests / seconds
  LatencySummary latency;
  bool tls = false;              ///< every connection spoke TLS
  bool tls_resume = false;       ///< each new connection offered the thread's latest session
  std::string tls_negotiated;    ///< protocol and cipher, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384"
  std::uint64_t handshakes = 0;  ///< TLS handshakes completed during the measured time
  std::uint64_t resumed = 0;     ///< of those, the ones that resumed a session
};

/// One reading of a process tree from /proc.
struct ProcessSample {
  double cpu_seconds = 0;       ///< user+system of live tasks plus reaped children
  std::uint64_t rss_bytes = 0;  ///< sum of VmRSS (counts shared pages once per process)
  std::uint64_t pss_bytes = 0;  ///< sum of Pss (shared pages split between sharers)
  int processes = 0;
  int threads = 0;
  std::uint64_t context_switches = 0;  ///< voluntary + involuntary, of live tasks
};

/// What the server used during one run of a scenario.
struct ServerUsage {
  double cpu_seconds = 0;            ///< during the measured time
  std::uint64_t idle_pss_bytes = 0;  ///< before any client connected
  std::uint64_t peak_pss_bytes = 0;  ///< highest reading under load
  std::uint64_t peak_rss_bytes = 0;
  int peak_processes = 0;
  int peak_threads = 0;
  std::uint64_t context_switches = 0;  ///< during the measured time
};

/// One cell of the compare matrix.
struct ComparePoint {
  std::string strategy;
  /// "plain", "keepalive", "full" or "resumed" when the compare had TLS modes; empty otherwise
  std::string tls_mode;
  RunResult run;  ///< the scenario (always filled) and, unless skipped, its outcome
  ServerUsage server;
  std::string skipped;  ///< why the point was not run ("select: above FD_SETSIZE"), or empty
};

/// Everything `srv-loadtest compare` measured in one invocation.
struct CompareReport {
  std::string machine;  ///< CPU model and count, kernel
  std::string date;     ///< ISO 8601, local time
  std::string command;  ///< the command line that made it
  std::vector<ComparePoint> points;
};

}  // namespace srv::loadtest
