#include "server/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

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

std::string_view format_address(const SocketAddress& address, char (&text)[kAddressTextSize]) {
  char host[INET6_ADDRSTRLEN] = "";
  std::uint16_t port = 0;
  const char* open = "";
  const char* close = "";
  if (address.storage.sin6_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &address.storage.sin6_addr, host, sizeof host);
    port = ntohs(address.storage.sin6_port);
    open = "[";
    close = "]";
  } else if (address.storage.sin6_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address.storage);
    ::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
    port = ntohs(v4.sin_port);
  } else {
    return "unknown peer";
  }
  auto written = fmt::format_to_n(text, sizeof text, "{}{}{}:{}", open, host, close, port);
  return {text, std::min(written.size, sizeof text)};
}

namespace {

using NameCall = int (*)(int, sockaddr*, socklen_t*);

std::string socket_name(int fd, NameCall call) {
  SocketAddress address;
  socklen_t length = sizeof address.storage;
  if (call(fd, reinterpret_cast<sockaddr*>(&address.storage), &length) != 0) return "unknown peer";
  char text[kAddressTextSize];
  return std::string(format_address(address, text));
}

}  // namespace

std::string peer_address(int fd) {
  return socket_name(fd, ::getpeername);
}

std::string local_address(int fd) {
  return socket_name(fd, ::getsockname);
}

}  // namespace srv
