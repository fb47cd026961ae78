#pragma once

#include <sys/epoll.h>

#include <vector>

#include "strategies/poller.h"

namespace srv {

/// epoll(7), level-triggered: the kernel keeps the interest set, so a wait costs in proportion
/// to the ready fds, not the watched ones. Owns its epoll fd.
class EpollPoller final : public Poller {
 public:
  explicit EpollPoller(int max_events);
  ~EpollPoller() override;
  EpollPoller(const EpollPoller&) = delete;
  EpollPoller& operator=(const EpollPoller&) = delete;

  void update(int fd, bool read, bool write) override;
  void wait(int timeout_ms, std::vector<PollEvent>& events) override;

 private:
  int epoll_fd_;
  std::vector<epoll_event> ready_;
  std::vector<bool> watched_;  // fd -> registered, to pick ADD, MOD or DEL
};

}  // namespace srv
