#pragma once

// Small wrappers over socket system calls shared by every strategy.

#include <cstdint>
#include <string>

namespace srv {

/// A parsed "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

/// Parses an endpoint; returns false with `error` set when it is malformed.
bool parse_endpoint(const std::string& text, Endpoint& out, std::string& error);

/// Formats an endpoint the way it is written in configs ("[::1]:80" for IPv6).
std::string format_endpoint(const std::string& host, std::uint16_t port);

/// Closes `fd`, retrying nothing (close must not be retried on Linux, even after EINTR).
void close_fd(int fd);

/// Best effort: writes `bytes` without blocking, then closes. For refusing connections.
void send_and_close(int fd, const std::string& bytes);

}  // namespace srv
