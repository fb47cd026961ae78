// Reads a server's whole process tree (the root and every descendant) from /proc, so that
// strategies that fork, pre-fork or spawn threads are measured the same way.
#pragma once

#include <sys/types.h>

#include "loadtest/results.h"

namespace srv::loadtest {

class ProcessTreeSampler {
 public:
  /// Does not own or wait for `root`; the caller started it and reaps it.
  explicit ProcessTreeSampler(pid_t root) : root_(root) {}

  /// One reading of `root` and its live descendants. Tasks that exit while being read are
  /// skipped, never an error. Safe to call from any thread. Without `memory`, PSS and RSS stay 0
  /// and the reading is much cheaper (smaps_rollup walks page tables: about a millisecond per
  /// process, seconds for a fork-per-connection server with thousands of children).
  ProcessSample sample(bool memory = true) const;

 private:
  pid_t root_;
};

}  // namespace srv::loadtest
