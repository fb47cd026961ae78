#include "server/socket_transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace srv {

SocketTransport::~SocketTransport() {
  ::close(fd_);
}

IoResult SocketTransport::read(std::span<char> into) {
  for (;;) {
    ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
    if (n > 0) return {IoStatus::kDone, static_cast<std::size_t>(n)};
    if (n == 0) return {IoStatus::kEof};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
    return {IoStatus::kError};  // reset or worse
  }
}

IoResult SocketTransport::write(std::string_view bytes) {
  for (;;) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) return {IoStatus::kDone, static_cast<std::size_t>(n)};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
    return {IoStatus::kError};  // EPIPE/ECONNRESET: the peer is gone
  }
}

IoResult SocketTransport::shutdown_write() {
  if (::shutdown(fd_, SHUT_WR) != 0 && errno != ENOTCONN) return {IoStatus::kError};
  return {IoStatus::kDone};
}

std::unique_ptr<Transport> SocketTransportFactory::wrap(int fd) {
  return std::make_unique<SocketTransport>(fd);
}

void SocketTransportFactory::refuse(int fd, std::string_view refusal) {
  if (!refusal.empty()) {
    [[maybe_unused]] auto n =
        ::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

}  // namespace srv
