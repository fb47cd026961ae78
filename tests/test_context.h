#pragma once

// ConnectionContexts for tests that make handlers straight from a factory, with no Connection.

#include <mutex>
#include <string>
#include <vector>

#include "server/protocol.h"

namespace srv::test {

/// A waker that gives a made-up address and records every ring instead of sending it, so a
/// handler test can check whom a handler woke. Any thread.
class RecordingWaker final : public Waker {
 public:
  explicit RecordingWaker(std::uint64_t id = 1) : id_(id) {}

  WakeAddress address() override {
    WakeAddress address{.doorbell = "test", .connection = id_};
    return address;
  }
  void wake(const WakeAddress& to) override {
    std::lock_guard lock(mutex_);
    rung_.push_back(to);
  }
  void wake_all(std::span<const WakeAddress> to) override {
    std::lock_guard lock(mutex_);
    rung_.insert(rung_.end(), to.begin(), to.end());
  }
  /// Every address rung so far, in order.
  std::vector<WakeAddress> rung() const {
    std::lock_guard lock(mutex_);
    return rung_;
  }

 private:
  std::uint64_t id_;
  mutable std::mutex mutex_;
  std::vector<WakeAddress> rung_;
};

/// A meter that records what a handler reported. Any thread (a mutex guards it).
class RecordingMeter final : public RequestMeter {
 public:
  bool logs_requests() const override { return logs; }

  int done = 0;                      ///< requests answered successfully
  std::vector<RequestError> errors;  ///< one entry per request answered with an error
  bool logs = false;                 ///< what logs_requests() says: set to get summaries
  /// One entry per request, copied: what the handler said for the access log.
  struct Summary {
    std::string request;
    std::string status;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    bool operator==(const Summary&) const = default;
  };
  std::vector<Summary> summaries;

 private:
  void count(std::optional<RequestError> error, const RequestSummary& summary) override {
    // test_context() shares one meter among handlers on several threads and processes.
    std::lock_guard lock(mutex_);
    if (error) {
      errors.push_back(*error);
    } else {
      ++done;
    }
    summaries.push_back({std::string(summary.request), std::string(summary.status),
                         summary.bytes_in, summary.bytes_out});
  }
  std::mutex mutex_;
};

/// A context with its own RecordingWaker and RecordingMeter, for one handler (keep it alive as
/// long).
struct TestContext {
  explicit TestContext(std::uint64_t id = 1) : waker(id), context{id, peer, local, waker, meter} {}
  TestContext(const TestContext&) = delete;
  TestContext& operator=(const TestContext&) = delete;

  std::string peer = "127.0.0.1:50000";
  std::string local = "127.0.0.1:7000";
  RecordingWaker waker;
  RecordingMeter meter;
  ConnectionContext context;
};

/// A context shared by handlers that never use their waker.
inline const ConnectionContext& test_context() {
  static TestContext shared;
  return shared.context;
}

}  // namespace srv::test
