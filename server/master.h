#pragma once

#include <string_view>

#include "config/config.h"

namespace srv {

/// Runs srv as nginx runs: a master process that owns the listening sockets and the state every
/// generation shares (counters, doorbells, the resp keyspace, all mapped before any fork), and
/// runs each generation (one strategy with one config) in a child process of its own.
///
/// - SIGHUP re-reads the config. Invalid: logged as "reload refused: file:line:col: ...", the
///   running generation goes on. Valid: a new generation starts on the same sockets (new ones are
///   bound, removed ones closed once nothing uses them); once it has run for a moment the old one
///   is told to drain (SIGTERM: it stops accepting, its open connections finish within its
///   shutdown_timeout).
/// - SIGUSR2 starts the binary anew (server/upgrade.h) with the listening sockets inherited;
///   once the new master's generation has settled it tells this one to drain, and this one
///   exits when its generations have. A new binary that fails to start leaves this one serving.
///   What lives in this master's shared memory (the resp keyspace, the counters) is not carried
///   over.
/// - A generation that dies is started again, sooner or later: a crash loop backs off.
/// - SIGTERM/SIGINT drain every generation and exit 0 once they have; a second one closes their
///   connections at once.
///
/// Call from the main thread before any other thread exists, with the config already loaded
/// from `overrides` (a reload loads it again the same way). Returns the exit code: 0 after a
/// clean shutdown; 1 when a listener cannot be opened, when a generation did not exit 0 as it
/// drained (killed at its deadline, a sanitizer's report), or when this master was started by
/// an upgrade whose generation failed to start. In a generation's process it returns
/// too, once that generation has finished, with its exit code: main() returns it as usual.
int run_master(const Overrides& overrides, Config config);

/// `srv -s NAME`, as nginx's: sends the running master (its pid read from config.pid_file) the
/// signal for NAME: "reload" SIGHUP, "stop" SIGTERM. Prints what it did or why it could not.
/// Returns the exit code: 0 when sent, 1 when there is no pid file or no such process, 2 for an
/// unknown NAME.
int signal_master(const Config& config, std::string_view name);

}  // namespace srv
