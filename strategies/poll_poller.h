#pragma once

#include <poll.h>

#include <vector>

#include "strategies/poller.h"

namespace srv {

/// poll(2): no FD_SETSIZE limit, but the kernel still scans the whole array on every wait.
class PollPoller final : public Poller {
 public:
  void update(int fd, bool read, bool write) override;
  void wait(int timeout_ms, std::vector<PollEvent>& events) override;

 private:
  std::vector<pollfd> fds_;
  std::vector<int> index_;  // fd -> position in fds_, -1 when not watched
};

}  // namespace srv
