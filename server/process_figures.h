#pragma once

// Figures of the server's processes, read from /proc when /metrics or /status is asked for:
// gauges like these are computed at scrape time, never kept in shared memory.

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace srv {

struct ProcessFigures {
  pid_t pid = 0;
  pid_t parent = 0;
  std::uint64_t threads = 0;
  std::uint64_t resident_bytes = 0;
};

struct ProcessGroupFigures {
  std::vector<ProcessFigures> processes;  ///< by pid
  std::uint64_t threads = 0;              ///< summed
  std::uint64_t resident_bytes = 0;       ///< summed (shared pages count once per process)
};

/// Every process of process group `pgid`; with `root` set, only `root` and its descendants in
/// that group (a server started from a script shares the script's group until the master makes
/// one of its own). Reads /proc/PID/stat; processes that exit meanwhile are skipped. Any thread.
ProcessGroupFigures process_group_figures(pid_t pgid, pid_t root = 0);

}  // namespace srv
