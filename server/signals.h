#pragma once

namespace srv {

/// Signals that reached the process since the last take_signals().
struct SignalSet {
  bool terminate = false;  ///< SIGTERM or SIGINT
  bool reload = false;     ///< SIGHUP
  bool child = false;      ///< SIGCHLD (may stand for several children: always reap in a loop)
  bool upgrade = false;    ///< SIGUSR2: start the binary anew (server/upgrade.h)
  /// SIGUSR1: log files were reopened (see below); pass the signal on to child processes.
  bool reopen_logs = false;
};

/// Routes SIGTERM, SIGINT, SIGHUP, SIGUSR2, SIGCHLD and SIGUSR1 into a non-blocking self-pipe so
/// that loops can poll for them, and ignores SIGPIPE process-wide. Handlers use SA_RESTART.
/// SIGUSR1 also asks, in the handler itself, every log file of the process to reopen before its
/// next line (log_file.h): that reaches processes without a pipe (fork's connection children)
/// and threads busy with a connection too. Call once in the
/// main process before any thread starts; call again in a forked child that wants its own pipe.
void install_signal_pipe();

/// Read end of the self-pipe: poll it on the thread that owns signal handling only.
int signal_pipe_fd();

/// Drains the self-pipe. Call when signal_pipe_fd() polls readable.
SignalSet take_signals();

/// In a forked connection child: closes the parent's pipe, ignores SIGTERM/SIGINT/SIGHUP/SIGUSR2
/// (the parent decides when a child dies) and restores SIGCHLD's default. SIGUSR1 still reopens
/// log files.
void detach_signals_in_child();

/// In a generation's processes: SIGINT is ignored. A terminal's Ctrl-C reaches the whole process
/// group; the master alone acts on it and tells its generations (SIGTERM), so that one Ctrl-C is
/// one graceful drain rather than two signals (the second of which would close connections).
void ignore_terminal_interrupt();

/// In such a child: SIGTERM marks the process as draining (drain_notice.h) instead of being
/// ignored. The parent still decides when the child dies.
void notice_drain_by_sigterm();

}  // namespace srv
