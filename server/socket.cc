#include "server/socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

namespace srv {

bool parse_endpoint(const std::string& text, Endpoint& out, std::string& error) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || (text.front() == '[' && text.back() == ']')) {
    error = "expected HOST:PORT, e.g. 127.0.0.1:7000, [::1]:7000 or :7000";
    return false;
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    error = "an IPv6 address needs brackets, e.g. [::1]:7000";
    return false;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    error = "port must be a number from 0 to 65535 (0 picks a free port)";
    return false;
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

std::string format_endpoint(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

void close_fd(int fd) {
  if (fd >= 0) ::close(fd);
}

void send_and_close(int fd, const std::string& bytes) {
  if (!bytes.empty()) {
    [[maybe_unused]] auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

}  // namespace srv
