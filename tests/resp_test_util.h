#pragma once

// Helpers for the resp tests: building requests and expected replies, and (optionally) asking a
// real redis-server the same thing.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace srv::test {

/// A RESP2 multibulk request.
inline std::string cmd(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

/// Inline requests, one per line.
inline std::string lines(std::initializer_list<std::string_view> commands) {
  std::string out;
  for (std::string_view c : commands) {
    out += c;
    out += "\r\n";
  }
  return out;
}

inline const std::string kOk = "+OK\r\n";
inline const std::string kNil = "$-1\r\n";
inline const std::string kNilArray = "*-1\r\n";
inline const std::string kEmptyArray = "*0\r\n";
inline const std::string kWrongType =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
inline const std::string kNotInteger = "-ERR value is not an integer or out of range\r\n";
inline const std::string kSyntax = "-ERR syntax error\r\n";

inline std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

inline std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
inline std::string integer(std::int64_t n) {
  return ":" + std::to_string(n) + "\r\n";
}
inline std::string err(std::string_view message) {
  return "-" + std::string(message) + "\r\n";
}
inline std::string arity(std::string_view command) {
  return "-ERR wrong number of arguments for '" + std::string(command) + "' command\r\n";
}
inline std::string array(std::initializer_list<std::string_view> elements) {
  std::string out = "*" + std::to_string(elements.size()) + "\r\n";
  for (std::string_view e : elements) out += e;
  return out;
}
inline std::string bulks(std::initializer_list<std::string_view> elements) {
  std::string out = "*" + std::to_string(elements.size()) + "\r\n";
  for (std::string_view e : elements) out += bulk(e);
  return out;
}

/// The port of a real redis-server to compare with, from the environment variable `name`, if set.
inline std::optional<int> reference_port(const char* name) {
  const char* port = std::getenv(name);
  if (port == nullptr || *port == '\0') return std::nullopt;
  return std::atoi(port);
}

/// What a server on 127.0.0.1:`port` answers to `input`: every byte until it closes or is
/// quiet for `quiet`, or (sooner) for a short moment once it has sent `expected` bytes, which
/// still shows extra bytes. `closed` says whether it closed.
inline std::string ask_server(int port, std::string_view input, bool& closed,
                              std::chrono::milliseconds quiet = std::chrono::milliseconds(300),
                              std::size_t expected = std::string::npos) {
  constexpr int kGraceMs = 30;
  closed = false;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return "(cannot connect)";
  }
  std::size_t sent = 0;
  while (sent < input.size()) {
    ssize_t n = ::send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int timeout = reply.size() >= expected ? kGraceMs : static_cast<int>(quiet.count());
    if (::poll(&p, 1, timeout) <= 0) break;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

}  // namespace srv::test
