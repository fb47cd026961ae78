#pragma once

// A throwaway redis-server for the tests that compare srv's replies with Redis's own.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace srv::test {

/// A redis-server (found on PATH) on a free 127.0.0.1 port, persisting nothing. Started by the
/// constructor, stopped (SIGTERM, then waited for) by the destructor. For the test's thread only.
class RedisReference {
 public:
  /// Starts it with `extra` arguments (e.g. {"--requirepass", "secret"}) and waits until it
  /// answers PING (or, with a password, anything). port() is nullopt when redis-server is not
  /// installed or did not come up within a few seconds.
  explicit RedisReference(std::vector<std::string> extra = {});
  ~RedisReference();
  RedisReference(const RedisReference&) = delete;
  RedisReference& operator=(const RedisReference&) = delete;

  std::optional<int> port() const { return port_; }

 private:
  bool start(int port, const std::vector<std::string>& extra);
  void stop();

  pid_t pid_ = -1;
  std::optional<int> port_;
};

}  // namespace srv::test
