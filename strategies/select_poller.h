#pragma once

#include <sys/select.h>

#include <vector>

#include "strategies/poller.h"

namespace srv {

/// select(2): portable everywhere, but fds must be below FD_SETSIZE (1024) and every wait scans
/// all watched fds, so its cost grows with open connections.
class SelectPoller final : public Poller {
 public:
  SelectPoller();
  void update(int fd, bool read, bool write) override;
  void wait(int timeout_ms, std::vector<PollEvent>& events) override;
  int fd_limit() const override { return FD_SETSIZE; }

 private:
  fd_set read_set_;
  fd_set write_set_;
  int max_fd_ = -1;
};

}  // namespace srv
