#pragma once

// Helpers for the process-based strategies (fork, prefork).

#include <sys/types.h>

#include <string>
#include <vector>

#include "server/generation.h"

namespace srv {

/// In a freshly forked child: dies with the parent (no orphan outlives the server), and closes
/// the listeners when the child will not accept (they stay open in the parent).
void prepare_child(pid_t parent, Generation& generation, bool keep_listeners);

/// "exited with status 0", "killed by signal 9 (Killed)" for logs.
std::string describe_exit(int status);

/// Sends `signo` to every pid in `pids`, then waits for each (blocking). For the drain deadline.
void kill_and_reap(const std::vector<pid_t>& pids, int signo);

}  // namespace srv
