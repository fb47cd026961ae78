#include "strategies/select_poller.h"

#include <cerrno>
#include <cstring>
#include <system_error>

namespace srv {

SelectPoller::SelectPoller() {
  FD_ZERO(&read_set_);
  FD_ZERO(&write_set_);
}

void SelectPoller::update(int fd, bool read, bool write) {
  if (read) {
    FD_SET(fd, &read_set_);
  } else {
    FD_CLR(fd, &read_set_);
  }
  if (write) {
    FD_SET(fd, &write_set_);
  } else {
    FD_CLR(fd, &write_set_);
  }
  if ((read || write) && fd > max_fd_) max_fd_ = fd;
  // Shrink lazily: select's cost is proportional to max_fd_ + 1.
  while (max_fd_ >= 0 && !FD_ISSET(max_fd_, &read_set_) && !FD_ISSET(max_fd_, &write_set_)) {
    --max_fd_;
  }
}

void SelectPoller::wait(int timeout_ms, std::vector<PollEvent>& events) {
  events.clear();
  fd_set readable = read_set_;
  fd_set writable = write_set_;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  int ready = ::select(max_fd_ + 1, &readable, &writable, nullptr, timeout_ms < 0 ? nullptr : &tv);
  if (ready < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "select");
  }
  for (int fd = 0; fd <= max_fd_ && ready > 0; ++fd) {
    bool r = FD_ISSET(fd, &readable);
    bool w = FD_ISSET(fd, &writable);
    if (!r && !w) continue;
    events.push_back({fd, r, w});
    ready -= (r ? 1 : 0) + (w ? 1 : 0);
  }
}

}  // namespace srv
