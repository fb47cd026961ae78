#pragma once

// Small wrappers over socket system calls shared by every strategy.

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace srv {

/// A parsed "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

/// An IPv4 or IPv6 address and port as accept4(2) returns it, kept unformatted.
struct SocketAddress {
  sockaddr_in6 storage{};  ///< sin6_family says which; an IPv4 address is a sockaddr_in in front
};

/// A connection accept4(2) returned: its socket (owned by whoever holds this) and its peer.
struct AcceptedSocket {
  int fd = -1;
  SocketAddress peer;
};

/// Room for any text format_address() writes ("[" INET6_ADDRSTRLEN "]:65535").
inline constexpr std::size_t kAddressTextSize = 64;

/// "HOST:PORT" of `address` ("[::1]:5555" for IPv6), written into `text`; "unknown peer" for
/// another family. No system call.
std::string_view format_address(const SocketAddress& address, char (&text)[kAddressTextSize]);

/// Parses an endpoint; returns false with `error` set when it is malformed.
bool parse_endpoint(const std::string& text, Endpoint& out, std::string& error);

/// Formats an endpoint the way it is written in configs ("[::1]:80" for IPv6).
std::string format_endpoint(const std::string& host, std::uint16_t port);

/// Closes `fd`, retrying nothing (close must not be retried on Linux, even after EINTR).
void close_fd(int fd);

/// "HOST:PORT" of the peer of a connected socket ("[::1]:5555" for IPv6), or "unknown peer".
/// For log lines; costs a getpeername(2), so call it when there is something to say.
std::string peer_address(int fd);

/// "HOST:PORT" of the local end of a socket, or "unknown peer". Costs a getsockname(2).
std::string local_address(int fd);

}  // namespace srv
