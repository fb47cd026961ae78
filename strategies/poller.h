#pragma once

// The small readiness interface under the event loop (muduo's Poller, redis's ae_*.c). Each
// backend translates its native events into PollEvent, so the loop has one shape for all.

#include <limits>
#include <vector>

namespace srv {

/// One ready descriptor. Errors and hang-ups are reported as readable and writable, so the
/// owner learns the details from its next read or write.
struct PollEvent {
  int fd = -1;
  bool readable = false;
  bool writable = false;
};

/// Watches descriptors for readiness, level-triggered. Used from the loop thread only. Does not
/// own the descriptors: the owner calls update(fd, false, false) before closing one.
class Poller {
 public:
  virtual ~Poller() = default;

  /// Sets what `fd` is watched for, replacing the previous interest. (false, false) stops
  /// watching it. `fd` must be below fd_limit().
  virtual void update(int fd, bool read, bool write) = 0;

  /// Waits up to `timeout_ms` (-1: no limit) and replaces `events` with the ready descriptors.
  /// Returns with no events when interrupted by a signal.
  virtual void wait(int timeout_ms, std::vector<PollEvent>& events) = 0;

  /// One above the highest fd this backend can watch (FD_SETSIZE for select).
  virtual int fd_limit() const { return std::numeric_limits<int>::max(); }
};

}  // namespace srv
