#pragma once

// The byte-moving half of a connection (Envoy's TransportSocket, redis's ConnectionType, nginx's
// c->recv/c->send). Connection keeps the policy (states, limits, backpressure, deadlines,
// lingering close) and moves every byte through a Transport: a plain socket, TLS, later an
// io_uring completion path. Nothing above a transport makes a socket call on the connection.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "server/clock.h"

namespace srv {

/// What one transport call did.
enum class IoStatus : std::uint8_t {
  kDone,        ///< bytes moved (read/write), or the shutdown is complete
  kWouldBlock,  ///< nothing more can move now; call again once the fd is ready for `waits_for`
  kEof,         ///< read only: the peer has finished sending (TCP FIN, TLS close_notify)
  kError,       ///< the connection is broken (reset, TLS failure): close it
};

/// The readiness a blocked call waits for. A TLS read can wait for writability (it must send
/// handshake bytes first) and a TLS write for readability; a plain socket never crosses over.
enum class Readiness : std::uint8_t { kReadable, kWritable };

struct IoResult {
  IoStatus status = IoStatus::kDone;
  std::size_t bytes = 0;                       ///< moved by a kDone read or write
  Readiness waits_for = Readiness::kReadable;  ///< what a kWouldBlock waits for
};

/// Moves bytes for one connection over a non-blocking socket. Never blocks. Used on one thread
/// at a time (the thread that drives the connection). Owns the socket and closes it when
/// destroyed.
class Transport {
 public:
  virtual ~Transport() = default;

  /// The socket, for polling only: reading or writing it directly would bypass the transport.
  virtual int fd() const = 0;

  /// Reads up to into.size() bytes (kDone with bytes > 0), drives a handshake that is not done
  /// yet, or reports EOF or an error. A TLS transport may fill `into` from several records.
  virtual IoResult read(std::span<char> into) = 0;

  /// Writes a prefix of `bytes` (kDone with bytes > 0). `bytes` may move between calls (the
  /// caller's buffer slides), so a retry after kWouldBlock need not pass the same address.
  virtual IoResult write(std::string_view bytes) = 0;

  /// Ends our sending direction after everything written so far: TLS sends close_notify, then
  /// the socket is shut down for writing. kWouldBlock: call again once ready for `waits_for`.
  virtual IoResult shutdown_write() = 0;

  /// Says goodbye before a close that needs no half-close (the peer has already finished): TLS
  /// sends close_notify if it can without blocking. Best effort; plain sockets have nothing to say.
  virtual void close_notify() {}

  /// True when input has already been taken off the socket and decoded (TLS records read ahead)
  /// that a read would return but polling the fd cannot report: the owner must read again
  /// without waiting for readiness.
  virtual bool has_pending() const { return false; }

  /// When the transport gives up on the peer on its own account (an unfinished TLS handshake,
  /// `tls.handshake_timeout`); max() for never.
  virtual Clock::time_point deadline() const { return Clock::time_point::max(); }

  /// deadline() has passed: the transport logs and counts why. The owner then closes it.
  virtual void on_deadline() {}
};

/// Makes the transport of every connection accepted on one listener, and refuses connections
/// beyond a cap. One factory serves a listener for every thread and forked process of a
/// generation, so its methods must be thread-safe and keep working after fork().
class TransportFactory {
 public:
  virtual ~TransportFactory() = default;

  /// Wraps a freshly accepted, non-blocking socket. Takes ownership of `fd`.
  virtual std::unique_ptr<Transport> wrap(int fd) = 0;

  /// Refuses a connection over capacity and closes it, without blocking. A plain socket gets
  /// `refusal` (the protocol's "server busy" bytes); TLS never sends plaintext and answers with
  /// an alert instead. Takes ownership of `fd`.
  virtual void refuse(int fd, std::string_view refusal) = 0;

  /// "tcp" or "tls", for log lines.
  virtual std::string_view name() const = 0;
};

}  // namespace srv
