#include "strategies/poll_poller.h"

#include <cerrno>
#include <system_error>

namespace srv {

void PollPoller::update(int fd, bool read, bool write) {
  if (static_cast<std::size_t>(fd) >= index_.size()) index_.resize(fd + 1, -1);
  int& pos = index_[fd];
  if (!read && !write) {
    if (pos < 0) return;
    // Swap with the last entry so removal is O(1).
    fds_[pos] = fds_.back();
    index_[fds_[pos].fd] = pos;
    fds_.pop_back();
    pos = -1;
    return;
  }
  short events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
  if (pos < 0) {
    pos = static_cast<int>(fds_.size());
    fds_.push_back({fd, events, 0});
  } else {
    fds_[pos].events = events;
  }
}

void PollPoller::wait(int timeout_ms, std::vector<PollEvent>& events) {
  events.clear();
  int ready = ::poll(fds_.data(), fds_.size(), timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "poll");
  }
  for (const pollfd& p : fds_) {
    if (ready == 0) break;
    if (p.revents == 0) continue;
    --ready;
    bool failed = (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
    events.push_back(
        {p.fd, failed || (p.revents & POLLIN) != 0, failed || (p.revents & POLLOUT) != 0});
  }
}

}  // namespace srv
