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

/// A meter that records what a handler reported. One thread, like the handler.
class RecordingMeter final : public RequestMeter {
 public:
  void request_done() override { ++done; }
  void request_error(RequestError kind) override { errors.push_back(kind); }

  int done = 0;                      ///< requests answered successfully
  std::vector<RequestError> errors;  ///< one entry per request answered with an error
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
