#pragma once

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "server/lifecycle.h"
#include "server/listener.h"
#include "server/settings.h"

namespace srv {

/// What the server hands to one running strategy: the listeners (owned by the server), the
/// shared settings, and the shutdown state. A reload will start a new generation on the same
/// listeners and tell the old one to drain. The signal methods belong to the main thread: the
/// strategy's own loop on that thread polls signal_fd() and calls handle_signals().
class Generation {
 public:
  Generation(std::vector<Listener*> listeners, const ServerSettings& settings, int signal_fd);

  std::span<Listener* const> listeners() const { return listeners_; }
  const ServerSettings& settings() const { return settings_; }
  Lifecycle& life() { return life_; }
  Phase phase() const { return life_.phase(); }

  /// The self-pipe that carries signals. Main thread only; -1 when signals are handled elsewhere.
  int signal_fd() const { return signal_fd_; }
  /// Main thread. Reads pending signals after signal_fd() polled readable: SIGTERM/SIGINT begin
  /// the drain and arm its deadline; SIGUSR1 runs the on_reopen_logs hook. Returns true if
  /// SIGCHLD arrived (reap in a loop).
  bool handle_signals();
  /// Begins draining and arms the shutdown deadline (also used by a worker that retires itself).
  void drain();
  /// Main thread. `hook` runs when the drain begins, before it is announced in the log (prefork
  /// uses it to tell its workers to stop accepting).
  void on_drain(std::function<void()> hook) { drain_hook_ = std::move(hook); }
  /// Main thread. `hook` runs when SIGUSR1 arrives (this process's log files reopen by
  /// themselves): fork and prefork pass the signal on to their processes with it.
  void on_reopen_logs(std::function<void()> hook) { reopen_hook_ = std::move(hook); }
  /// Main thread. A poll timeout no later than the drain deadline: `own_ms` (-1 = none) or less.
  int poll_timeout(int own_ms) const;
  /// Main thread. Begins stopping once the drain deadline has passed.
  void tick();

 private:
  std::vector<Listener*> listeners_;
  const ServerSettings& settings_;
  int signal_fd_;
  Lifecycle life_;
  std::optional<Clock::time_point> deadline_;
  std::function<void()> drain_hook_;
  std::function<void()> reopen_hook_;
};

}  // namespace srv
