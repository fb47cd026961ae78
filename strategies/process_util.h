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

/// fork() with every signal blocked across it, so the child cannot run the parent's handlers
/// (which write into the parent's self-pipe) before it has installed its own. In the parent the
/// mask is restored before returning; in the child signals stay blocked until the child calls
/// unblock_signals_in_child() after setting up its handlers. Main thread only.
pid_t fork_with_signals_blocked();
void unblock_signals_in_child();

/// "exited with status 0", "killed by signal 9 (Killed)" for logs.
std::string describe_exit(int status);

/// Sends `signo` to every pid in `pids`, then waits for each (blocking). For the drain deadline.
void kill_and_reap(const std::vector<pid_t>& pids, int signo);

}  // namespace srv
