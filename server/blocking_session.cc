#include "server/blocking_session.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "server/doorbell.h"

namespace srv {

void serve_blocking(const Listener& listener, const AcceptedSocket& socket,
                    const ConnectionLimits& limits, int stop_fd) {
  // Opened only if the handler asks for its address: a connection that never parks costs no fd.
  Doorbell doorbell(Doorbell::Open::kWhenNeeded);
  std::unique_ptr<Connection> owned = listener.make_connection(socket, limits, &doorbell);
  Connection& connection = *owned;
  while (!connection.finished()) {
    auto left = std::chrono::ceil<milliseconds>(connection.deadline() - Clock::now()).count();
    if (left <= 0) {
      connection.on_timeout();
      continue;
    }
    // Input the transport already holds (TLS records read ahead) is served without waiting;
    // the poll still looks at stop_fd. poll(2) skips the entries whose fd is -1.
    bool pending = connection.has_pending();
    short events = static_cast<short>((connection.wants_read() ? POLLIN : 0) |
                                      (connection.wants_write() ? POLLOUT : 0));
    pollfd fds[3] = {
        {connection.fd(), events, 0}, {stop_fd, POLLIN, 0}, {doorbell.fd(), POLLIN, 0}};
    int timeout = pending ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
    int ready = ::poll(fds, 3, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || fds[1].revents != 0) break;
    if (fds[2].revents != 0) {
      doorbell.answer([&connection](int) { connection.on_wake(); });  // the only one enrolled
      if (connection.finished()) break;
    }
    // Errors and hang-ups count as both: the next transport call says what happened.
    short got = fds[0].revents;
    bool failed = (got & (POLLERR | POLLHUP)) != 0;
    bool readable = pending || failed || (got & POLLIN) != 0;
    bool writable = failed || (got & POLLOUT) != 0;
    if (readable || writable) connection.on_ready(readable, writable);
  }
  connection.abort();
}

}  // namespace srv
