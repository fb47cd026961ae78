#include "strategies/fd_setsize.h"

#include <sys/select.h>

#include <fmt/format.h>

namespace srv {
namespace {

// Descriptors the process holds besides connections: stdio, listeners, the signal pipe, the
// lifecycle eventfds, the spare fd for EMFILE, the poller's own fd, and some slack.
constexpr int kReservedFds = 32;

}  // namespace

void fit_max_connections_to_fd_setsize(ServerSettings& settings, const Section& top,
                                       std::string_view who, std::string_view instead) {
  int most = FD_SETSIZE - kReservedFds;
  if (settings.max_connections <= most) return;
  if (!top.node()["max_connections"]) {
    settings.max_connections = most;  // the shared default is more than select can hold
    return;
  }
  top.fail("max_connections",
           fmt::format("{} can watch descriptors below FD_SETSIZE ({}) only, so at most {} "
                       "connections ({} descriptors are reserved); got {}. Lower "
                       "max_connections or use {}",
                       who, FD_SETSIZE, most, kReservedFds, settings.max_connections, instead));
}

}  // namespace srv
