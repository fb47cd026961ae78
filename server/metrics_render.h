#pragma once

// What the admin endpoints answer: /metrics in the Prometheus text exposition format 0.0.4 and
// /status as JSON, from a snapshot of the shared page, what the master knows (StatusInfo) and
// the processes' figures read from /proc at scrape time. Pure functions of their arguments.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/metrics.h"
#include "server/process_figures.h"

namespace srv {

/// What the process that serves the admin endpoints knows about the server (the master fills it
/// once it exists; today run_server does).
struct StatusInfo {
  struct Listener {
    std::string address;
    std::string protocol;
    std::string transport;
  };
  std::string version;
  pid_t pid = 0;
  pid_t pgid = 0;  ///< the server's process group: processes, threads and memory are summed over
  pid_t root = 0;  ///< if set, only it and its descendants within pgid (see process_figures.h)
  std::chrono::system_clock::time_point started;
  std::string config_file;
  std::uint64_t generation = 0;
  std::string strategy;
  std::vector<Listener> listeners;
  bool draining = false;  ///< /healthz answers 503 while true
};

/// The Prometheus text exposition (format 0.0.4): HELP and TYPE for every family, the same
/// family names whatever the strategy, histograms cumulative with _bucket{le}, _sum, _count.
std::string render_prometheus(const MetricsSnapshot& metrics, const StatusInfo& status,
                              const ProcessGroupFigures& processes);

/// /status: version, pid, uptime, config file, generation, strategy, draining, listeners and
/// one entry per process (pid, threads, resident bytes). `now` measures the uptime.
std::string render_status_json(const StatusInfo& status, const ProcessGroupFigures& processes,
                               std::chrono::system_clock::time_point now);

/// A label value escaped for the exposition format: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace srv
