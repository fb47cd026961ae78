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

/// "HOST:PORT" of the peer of a connected socket ("[::1]:5555" for IPv6), or "unknown peer".
/// For log lines; costs a getpeername(2), so call it when there is something to say.
std::string peer_address(int fd);

}  // namespace srv
