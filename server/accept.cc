#include "server/accept.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include <spdlog/spdlog.h>

namespace srv {
namespace {

std::mutex g_spare_mutex;
int g_spare_fd = -1;
std::atomic<long long> g_last_shed_log{0};

void log_shed(int err) {
  long long now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
  long long last = g_last_shed_log.load();
  if (now != last && g_last_shed_log.compare_exchange_strong(last, now)) {
    spdlog::warn("accept: {}; shedding new connections and backing off", std::strerror(err));
  }
}

Accepted shed(int listen_fd, int err) {
  std::lock_guard lock(g_spare_mutex);
  if (g_spare_fd >= 0) {
    ::close(g_spare_fd);
    g_spare_fd = -1;
  }
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) ::close(fd);
  g_spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  log_shed(err);
  return {AcceptStatus::kBackOff, {}};
}

}  // namespace

void reserve_spare_fd() {
  std::lock_guard lock(g_spare_mutex);
  if (g_spare_fd < 0) g_spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Accepted accept_connection(int listen_fd) {
  for (;;) {
    Accepted accepted{AcceptStatus::kAccepted, {}};
    socklen_t length = sizeof accepted.socket.peer.storage;
    accepted.socket.fd =
        ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&accepted.socket.peer.storage), &length,
                  SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (accepted.socket.fd >= 0) return accepted;
    switch (errno) {
      case EINTR:
        continue;
      // The peer gave up before we accepted, or the kernel is short: nothing to serve now.
      case ECONNABORTED:
      case EPROTO:
      case EPERM:
      case EAGAIN:
        return {AcceptStatus::kWouldBlock, {}};
      case EMFILE:
      case ENFILE:
        return shed(listen_fd, errno);
      case ENOBUFS:
      case ENOMEM:
        log_shed(errno);
        return {AcceptStatus::kBackOff, {}};
      default:
        spdlog::warn("accept: {}", std::strerror(errno));
        return {AcceptStatus::kWouldBlock, {}};
    }
  }
}

}  // namespace srv
