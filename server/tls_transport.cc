#include "server/tls_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "server/counters.h"
#include "server/socket.h"

namespace srv {
namespace {

struct Failure {
  Counter counter;
  const char* explanation;
};

// Sorts a failed handshake by what the client did, from OpenSSL's reason code.
Failure classify(int ssl_error, unsigned long code) {
  if (ssl_error == SSL_ERROR_ZERO_RETURN || (ssl_error == SSL_ERROR_SYSCALL && code == 0)) {
    return {Counter::kTlsFailedClosed, "the client went away mid-handshake"};
  }
  switch (ERR_GET_REASON(code)) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return {Counter::kTlsFailedVersion, "the client offers only TLS versions below min_version"};
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
      return {Counter::kTlsFailedCipher, "the client offers no cipher or group of the profile"};
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_NO_CERTIFICATES_RETURNED:
      return {Counter::kTlsFailedClientCert, "no valid client certificate (verify_client)"};
    case SSL_R_NO_APPLICATION_PROTOCOL:
      return {Counter::kTlsFailedAlpn, "no ALPN protocol in common"};
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
      return {Counter::kTlsFailedPlaintext, "plaintext HTTP on a TLS port"};
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_LENGTH_MISMATCH:
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_LENGTH_TOO_SHORT:
    case SSL_R_BAD_EXTENSION:
    case SSL_R_UNKNOWN_PROTOCOL:
      return {Counter::kTlsFailedMalformed, "bytes that are not a TLS handshake"};
    default:
      return {Counter::kTlsFailedOther, "handshake failed"};
  }
}

}  // namespace

TlsTransport::TlsTransport(int fd, ::ssl_st* ssl, milliseconds handshake_timeout)
    : fd_(fd),
      ssl_(ssl),
      peer_(peer_address(fd)),
      handshake_deadline_(Clock::now() + handshake_timeout) {}

TlsTransport::~TlsTransport() {
  SSL_free(ssl_);  // its socket BIO does not own the fd
  ::close(fd_);
}

IoResult TlsTransport::read(std::span<char> into) {
  if (!ssl_ || broken_) return {IoStatus::kError};
  if (!established_) {
    IoResult done = handshake();
    if (done.status != IoStatus::kDone) return done;
  }
  // Fill `into` from as many records as OpenSSL can decrypt now: one record is at most 16 KiB,
  // and each poll round trip saved is worth more than the loop.
  pending_ = false;
  std::size_t got = 0;
  while (got < into.size()) {
    std::size_t n = 0;
    ERR_clear_error();
    int rc = SSL_read_ex(ssl_, into.data() + got, into.size() - got, &n);
    if (rc == 1) {
      got += n;
      continue;
    }
    IoResult result = failed(rc);
    if (got == 0) return result;
    // Bytes first; an EOF or error comes back from the next call (broken_ and close_notify
    // are sticky). That call must come without waiting for readiness: a close_notify read
    // together with the last bytes leaves nothing on the socket to wake the owner (the peer
    // may keep TCP open, waiting for our close_notify).
    pending_ = result.status != IoStatus::kWouldBlock;
    return {IoStatus::kDone, got};
  }
  // Stopped with `into` full: whole records may wait in OpenSSL's read-ahead buffer, where
  // polling the fd cannot see them.
  pending_ = SSL_has_pending(ssl_) == 1;
  return {IoStatus::kDone, got};
}

IoResult TlsTransport::write(std::string_view bytes) {
  if (!ssl_ || broken_) return {IoStatus::kError};
  if (!established_) {
    IoResult done = handshake();
    if (done.status != IoStatus::kDone) return done;
  }
  std::size_t n = 0;
  ERR_clear_error();
  int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n);
  if (rc == 1) return {IoStatus::kDone, n};
  return failed(rc);
}

IoResult TlsTransport::shutdown_write() {
  if (ssl_ && established_ && !broken_) {
    ERR_clear_error();
    int rc = SSL_shutdown(ssl_);  // 0: our close_notify is out; 1: theirs had arrived too
    if (rc < 0) {
      IoResult result = failed(rc);
      if (result.status == IoStatus::kWouldBlock) return result;
    }
  }
  ::shutdown(fd_, SHUT_WR);
  return {broken_ ? IoStatus::kError : IoStatus::kDone};
}

void TlsTransport::close_notify() {
  if (!ssl_ || !established_ || broken_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // best effort: the socket has room, since all output was flushed
  ERR_clear_error();
}

bool TlsTransport::has_pending() const {
  return pending_;
}

Clock::time_point TlsTransport::deadline() const {
  return established_ || broken_ ? Clock::time_point::max() : handshake_deadline_;
}

void TlsTransport::on_deadline() {
  std::uint64_t total = count(Counter::kTlsFailedTimeout);
  if (log_allowed(Counter::kTlsFailedTimeout)) {
    spdlog::info(
        "TLS handshake with {} timed out: the client sent no complete handshake within "
        "tls.handshake_timeout ({} so far)",
        peer_, total);
  }
  broken_ = true;
}

IoResult TlsTransport::handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    count(Counter::kTlsHandshakes);
    if (SSL_session_reused(ssl_)) count(Counter::kTlsResumed);
    return {IoStatus::kDone};
  }
  int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
  if (error == SSL_ERROR_WANT_WRITE) return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
  report_handshake_failure(error);
  broken_ = true;
  return {IoStatus::kError};
}

void TlsTransport::report_handshake_failure(int error) {
  unsigned long code = ERR_peek_last_error();
  Failure failure = classify(error, code);
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  std::uint64_t total = count(failure.counter);
  if (log_allowed(failure.counter)) {
    spdlog::info("TLS handshake with {} failed: {} ({}; {} {} so far)", peer_, failure.explanation,
                 reason ? reason : "connection closed", counter_name(failure.counter), total);
  }
}

IoResult TlsTransport::failed(int ret) {
  int error = SSL_get_error(ssl_, ret);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
    case SSL_ERROR_WANT_WRITE:
      return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
    case SSL_ERROR_ZERO_RETURN:
      return {IoStatus::kEof};  // close_notify, or a bare FIN (SSL_OP_IGNORE_UNEXPECTED_EOF)
    default:
      broken_ = true;  // reset, or a fatal TLS error: no close_notify after this
      ERR_clear_error();
      return {IoStatus::kError};
  }
}

}  // namespace srv
