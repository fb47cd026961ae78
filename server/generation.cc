#include "server/generation.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "server/drain_notice.h"
#include "server/signals.h"

namespace srv {

Generation::Generation(std::vector<Listener*> listeners, const ServerSettings& settings,
                       int signal_fd)
    : listeners_(std::move(listeners)), settings_(settings), signal_fd_(signal_fd) {}

bool Generation::handle_signals() {
  SignalSet set = take_signals();
  if (set.terminate && phase() == Phase::kRunning) {
    drain();
    spdlog::info("shutting down: no new connections; open ones have {}ms to finish",
                 settings_.shutdown_timeout.count());
  } else if (set.terminate) {
    spdlog::info("second shutdown signal: closing open connections now");
    life_.begin_stop();
  }
  if (set.reload) spdlog::debug("SIGHUP: the master reloads; a generation ignores it");
  if (set.reopen_logs) {
    spdlog::debug("SIGUSR1: log files reopened");
    if (reopen_hook_) reopen_hook_();
  }
  return set.child;
}

void Generation::drain() {
  if (!deadline_) deadline_ = Clock::now() + settings_.shutdown_timeout;
  mark_process_draining();
  life_.begin_drain();
  if (drain_hook_) std::exchange(drain_hook_, nullptr)();
}

int Generation::poll_timeout(int own_ms) const {
  if (!deadline_ || phase() == Phase::kStopping) return own_ms;
  auto left = std::chrono::ceil<milliseconds>(*deadline_ - Clock::now()).count();
  left = std::max<long long>(left, 0);
  return own_ms < 0 ? static_cast<int>(left) : static_cast<int>(std::min<long long>(own_ms, left));
}

void Generation::tick() {
  if (deadline_ && phase() == Phase::kDraining && Clock::now() >= *deadline_) {
    spdlog::info("shutdown_timeout reached: closing the remaining connections");
    life_.begin_stop();
  }
}

}  // namespace srv
