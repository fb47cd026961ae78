// How a load thread's connections carry bytes once the TCP connect is done: plain send/recv,
// or TLS through OpenSSL on the same non-blocking socket. The load thread drives one code path
// for both: handshake() until kDone, then read() and write(); a plain transport's handshake is
// done at once. Three lifetimes: a TlsContext per run (the SSL_CTX), a ConnectionFactory per
// load thread (the session a new connection offers for resumption), a Transport per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <openssl/types.h>

using SSL_SESSION = struct ssl_session_st;  // as <openssl/ssl.h> declares it

namespace srv::loadtest {

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;  ///< verify the server against this CA (PEM); empty = no verification
  std::string sni;      ///< server name sent and verified; empty = the target host if a name
  bool resume = false;  ///< offer the session of the thread's previous connection
};

enum class Io {
  kDone,       ///< handshake finished, or `bytes` were read or written (at least one)
  kWantRead,   ///< try again when the socket is readable
  kWantWrite,  ///< try again when the socket is writable
  kClosed,     ///< the peer closed the connection (read only)
  kError,      ///< a socket error (errno's text in Transport::error())
  kTlsError,   ///< a TLS failure: OpenSSL's reason in Transport::error()
};

struct IoResult {
  Io status = Io::kDone;
  std::size_t bytes = 0;
};

/// One connection's byte stream. Does not own the socket: the caller closes it after the
/// transport is gone. Used by one thread.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Advances the handshake; kDone once it is complete (at once for plain TCP).
  virtual IoResult handshake() = 0;
  /// Reads up to `size` bytes into `into`.
  virtual IoResult read(char* into, std::size_t size) = 0;
  /// Writes some of `size` bytes. After kWantWrite, call again with the same bytes, possibly
  /// moved and with more appended.
  virtual IoResult write(const char* from, std::size_t size) = 0;
  /// True when the transport holds received bytes that epoll cannot see (read them now).
  virtual bool buffered() const { return false; }
  /// After the handshake: whether it resumed an earlier session.
  virtual bool resumed() const { return false; }
  /// After the handshake: "TLSv1.3 TLS_AES_256_GCM_SHA384", empty for plain TCP.
  virtual std::string describe() const { return {}; }
  /// Before a clean close: tells the peer (TLS close_notify), so the session stays resumable.
  virtual void shutdown() {}
  /// Why the last call returned kError or kTlsError.
  virtual std::string error() const = 0;
};

/// The TLS settings of one run: an SSL_CTX (TLS 1.2 and up, partial writes, moving write
/// buffers, read-ahead). Shared read-only by the load threads, created before them.
class TlsContext {
 public:
  /// `host` is the target host: the name to send and verify when options.sni is empty.
  /// Throws std::invalid_argument for an unreadable CA file.
  TlsContext(const TlsOptions& options, const std::string& host);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  const TlsOptions& options() const { return options_; }
  /// The name sent as SNI (empty: none, the target is an address).
  const std::string& server_name() const { return server_name_; }
  /// The name or address the certificate must match when verifying.
  const std::string& verify_name() const { return verify_name_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  TlsOptions options_;
  std::string server_name_;
  std::string verify_name_;
};

/// Makes the transports of one load thread and, with resumption on, keeps the session the
/// latest of them received. Used by that thread only.
class ConnectionFactory {
 public:
  /// `tls` null: plain TCP. Does not own `tls`, which outlives the factory.
  explicit ConnectionFactory(const TlsContext* tls);
  ~ConnectionFactory();
  ConnectionFactory(const ConnectionFactory&) = delete;
  ConnectionFactory& operator=(const ConnectionFactory&) = delete;

  /// A transport for the connected socket `fd` (not owned). Throws std::runtime_error if
  /// OpenSSL cannot make one.
  std::unique_ptr<Transport> open(int fd);
  /// Takes `session` as the one the next connection offers (frees the one kept before).
  void keep_session(SSL_SESSION* session);
  bool tls() const { return tls_ != nullptr; }

 private:
  const TlsContext* tls_;
  SSL_SESSION* session_ = nullptr;
};

}  // namespace srv::loadtest
