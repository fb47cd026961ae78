#pragma once

#include <atomic>

namespace srv {

enum class Phase { kRunning, kDraining, kStopping };

/// The shutdown state of one strategy generation, shared by all its threads. Its two fds are
/// level-triggered broadcasts: once a phase begins its fd stays readable, so any number of
/// threads may poll it at once. Nobody reads from them. Thread-safe. Not inherited meaningfully
/// across fork (a child that needs one makes its own).
class Lifecycle {
 public:
  Lifecycle();
  ~Lifecycle();
  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  Phase phase() const { return phase_.load(std::memory_order_acquire); }
  /// Readable once draining (stop accepting) has begun. Acceptors poll it.
  int drain_fd() const { return drain_fd_; }
  /// Readable once stopping (close everything now) has begun. Sessions poll it.
  int stop_fd() const { return stop_fd_; }

  /// Stop accepting; open connections may finish. Idempotent, any thread.
  void begin_drain();
  /// Close everything now. Implies draining. Idempotent, any thread.
  void begin_stop();

 private:
  std::atomic<Phase> phase_{Phase::kRunning};
  int drain_fd_ = -1;
  int stop_fd_ = -1;
};

}  // namespace srv
