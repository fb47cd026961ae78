#include "server/blocking_session.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace srv {

void serve_blocking(Connection& connection, int stop_fd) {
  while (!connection.finished()) {
    auto left = std::chrono::ceil<milliseconds>(connection.deadline() - Clock::now()).count();
    if (left <= 0) {
      connection.on_timeout();
      continue;
    }
    short events = static_cast<short>((connection.wants_read() ? POLLIN : 0) |
                                      (connection.wants_write() ? POLLOUT : 0));
    pollfd fds[2] = {{connection.fd(), events, 0}, {stop_fd, POLLIN, 0}};
    int ready =
        ::poll(fds, stop_fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (stop_fd >= 0 && fds[1].revents != 0)) break;
    short got = fds[0].revents;
    if (got & (POLLIN | POLLERR | POLLHUP)) {
      // Errors surface through the syscall: read if reading is wanted, else write.
      if (connection.wants_read()) {
        connection.on_readable();
      } else {
        connection.on_writable();
      }
    } else if (got & POLLOUT) {
      connection.on_writable();
    }
  }
  connection.abort();
}

}  // namespace srv
