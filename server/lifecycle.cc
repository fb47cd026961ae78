#include "server/lifecycle.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <system_error>

namespace srv {
namespace {

int make_eventfd() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

void raise_flag(int fd) {
  std::uint64_t one = 1;
  // Cannot fail short of a bad fd; the counter never overflows at one write per phase.
  [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

}  // namespace

Lifecycle::Lifecycle() : drain_fd_(make_eventfd()), stop_fd_(make_eventfd()) {}

Lifecycle::~Lifecycle() {
  ::close(drain_fd_);
  ::close(stop_fd_);
}

void Lifecycle::begin_drain() {
  Phase expected = Phase::kRunning;
  if (phase_.compare_exchange_strong(expected, Phase::kDraining)) raise_flag(drain_fd_);
}

void Lifecycle::begin_stop() {
  begin_drain();
  Phase expected = Phase::kDraining;
  if (phase_.compare_exchange_strong(expected, Phase::kStopping)) raise_flag(stop_fd_);
}

}  // namespace srv
