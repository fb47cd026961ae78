#pragma once

// How long one transfer (a request arriving, a reply leaving) has been under way and how many of
// its bytes have moved: the basis of read_timeout, write_timeout and min_rate, which bound what a
// slow client may hold however steadily it trickles (an idle timeout is reset by every byte).

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "server/clock.h"

namespace srv {

/// A lower bound on a transfer's average rate, after a grace period: Apache mod_reqtimeout's
/// MinRate. A transfer that began at T and has moved B bytes must be over by
/// T + grace + B / bytes_per_second, so every byte buys time and a trickle runs out of it.
struct MinRate {
  std::uint64_t bytes_per_second = 0;  ///< 0: no minimum
  milliseconds grace{10'000};
};

/// One transfer's start and byte count. A plain value, used by its connection's thread only.
class TransferClock {
 public:
  bool running() const { return since_ != Clock::time_point::max(); }
  Clock::time_point since() const { return since_; }
  std::uint64_t bytes() const { return bytes_; }

  /// Starts a transfer at `now` unless one is under way; `already` bytes of it have moved.
  void start(Clock::time_point now, std::uint64_t already = 0) {
    if (running()) return;
    since_ = now;
    bytes_ = already;
  }
  /// Starts a new transfer at `now` whether or not one was under way.
  void restart(Clock::time_point now, std::uint64_t already = 0) {
    since_ = now;
    bytes_ = already;
  }
  void stop() {
    since_ = Clock::time_point::max();
    bytes_ = 0;
  }
  void add(std::uint64_t bytes) {
    if (running()) bytes_ += bytes;
  }

  /// When the transfer is too slow for `rate`, or max() if that never comes (not running, no
  /// minimum).
  Clock::time_point rate_deadline(const MinRate& rate) const {
    if (!running() || rate.bytes_per_second == 0) return Clock::time_point::max();
    double seconds = static_cast<double>(bytes_) / static_cast<double>(rate.bytes_per_second);
    if (seconds > kMaxEarnedSeconds) return Clock::time_point::max();  // no overflow: never
    auto earned =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    return since_ + rate.grace + earned;
  }

  /// When the transfer has lasted `timeout` (0: never), or max() if not running.
  Clock::time_point timeout_deadline(milliseconds timeout) const {
    if (!running() || timeout.count() == 0) return Clock::time_point::max();
    return since_ + timeout;
  }

 private:
  static constexpr double kMaxEarnedSeconds = 365.0 * 24 * 3600;

  Clock::time_point since_ = Clock::time_point::max();
  std::uint64_t bytes_ = 0;
};

}  // namespace srv
