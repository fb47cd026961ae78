#include "strategies/epoll_poller.h"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace srv {

EpollPoller::EpollPoller(int max_events)
    : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), ready_(static_cast<std::size_t>(max_events)) {
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

EpollPoller::~EpollPoller() {
  ::close(epoll_fd_);
}

void EpollPoller::update(int fd, bool read, bool write) {
  if (static_cast<std::size_t>(fd) >= watched_.size()) watched_.resize(fd + 1, false);
  epoll_event ev{};
  ev.events = (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  int op;
  if (!read && !write) {
    if (!watched_[fd]) return;
    op = EPOLL_CTL_DEL;
    watched_[fd] = false;
  } else {
    op = watched_[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    watched_[fd] = true;
  }
  if (::epoll_ctl(epoll_fd_, op, fd, &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  }
}

void EpollPoller::wait(int timeout_ms, std::vector<PollEvent>& events) {
  events.clear();
  int ready = ::epoll_wait(epoll_fd_, ready_.data(), static_cast<int>(ready_.size()), timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "epoll_wait");
  }
  for (int i = 0; i < ready; ++i) {
    std::uint32_t got = ready_[i].events;
    bool failed = (got & (EPOLLERR | EPOLLHUP)) != 0;
    events.push_back(
        {ready_[i].data.fd, failed || (got & EPOLLIN) != 0, failed || (got & EPOLLOUT) != 0});
  }
}

}  // namespace srv
