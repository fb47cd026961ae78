#pragma once

#include "server/transport.h"

struct ssl_st;

namespace srv {

/// TLS over a non-blocking socket, server side (OpenSSL 3 on a socket BIO). The handshake runs
/// inside the first reads, bounded by the handshake timeout; a failed one is logged at info
/// (rate-limited) with its reason and counted by kind. Bytes OpenSSL has read ahead and
/// decrypted are reported by has_pending(). Owns the SSL object and the fd.
class TlsTransport final : public Transport {
 public:
  /// `ssl` is set up for `fd` in accept state, or null (out of memory: every call fails).
  TlsTransport(int fd, ::ssl_st* ssl, milliseconds handshake_timeout);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  int fd() const override { return fd_; }
  IoResult read(std::span<char> into) override;
  IoResult write(std::string_view bytes) override;
  IoResult shutdown_write() override;
  void close_notify() override;
  bool has_pending() const override;
  Clock::time_point deadline() const override;
  void on_deadline() override;

 private:
  IoResult handshake();
  /// Translates a failed OpenSSL call; marks the session broken on a fatal error.
  IoResult failed(int ret);
  void report_handshake_failure(int error);

  int fd_;
  ::ssl_st* ssl_;
  Clock::time_point handshake_deadline_;
  bool established_ = false;
  bool pending_ = false;  // the last read stopped full with records left in OpenSSL's buffer
  bool broken_ = false;   // a fatal error happened: OpenSSL must not be asked to shut down
};

}  // namespace srv
