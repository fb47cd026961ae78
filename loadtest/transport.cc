// Plain TCP and TLS (OpenSSL, non-blocking) behind one Transport interface; see transport.h.
#include "loadtest/transport.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace srv::loadtest {
namespace {

constexpr int kFactoryIndex = 0;  // SSL ex_data slot of the owning ConnectionFactory (app data)

class PlainTransport : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}

  IoResult handshake() override { return {}; }

  IoResult read(char* into, std::size_t size) override {
    for (;;) {
      const ssize_t n = ::read(fd_, into, size);
      if (n > 0) return {Io::kDone, static_cast<std::size_t>(n)};
      if (n == 0) return {Io::kClosed};
      if (errno == EINTR) continue;
      return failed(Io::kWantRead);
    }
  }

  IoResult write(const char* from, std::size_t size) override {
    for (;;) {
      const ssize_t n = ::send(fd_, from, size, MSG_NOSIGNAL);
      if (n >= 0) return {Io::kDone, static_cast<std::size_t>(n)};
      if (errno == EINTR) continue;
      return failed(Io::kWantWrite);
    }
  }

  std::string error() const override { return std::strerror(errno_); }

 private:
  IoResult failed(Io would_block) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {would_block};
    errno_ = errno;
    return {Io::kError};
  }

  int fd_;
  int errno_ = 0;
};

bool is_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

/// The oldest error on this thread's OpenSSL queue as its reason text; empties the queue.
/// `code`, if given, receives the error (0: none).
std::string take_openssl_reason(const char* fallback, unsigned long* code = nullptr) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (code != nullptr) *code = e;
  if (e == 0) return fallback;
  const char* reason = ERR_reason_error_string(e);
  if (reason != nullptr) return reason;
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

/// OpenSSL calls this when the server hands the client a session (TLS 1.2: at the end of the
/// handshake; TLS 1.3: a ticket, read with the first replies). Returning 1 takes ownership.
extern "C" int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* factory = static_cast<ConnectionFactory*>(SSL_get_ex_data(ssl, kFactoryIndex));
  if (factory == nullptr) return 0;
  factory->keep_session(session);
  return 1;
}

class TlsTransport : public Transport {
 public:
  TlsTransport(const TlsContext& tls, ConnectionFactory& factory, SSL_SESSION* offer, int fd)
      : ssl_(SSL_new(tls.ctx())) {
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1) {
      const std::string reason = take_openssl_reason("SSL_new failed");
      SSL_free(ssl_);  // null is fine
      throw std::runtime_error("TLS: " + reason);
    }
    SSL_set_connect_state(ssl_);
    SSL_set_ex_data(ssl_, kFactoryIndex, &factory);
    if (!tls.server_name().empty()) {
      // SSL_set_tlsext_host_name, whose macro casts the C way.
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(tls.server_name().c_str()));
    }
    if (!tls.options().ca_file.empty()) {
      const std::string& name = tls.verify_name();
      if (is_address(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
      } else {
        SSL_set1_host(ssl_, name.c_str());
      }
    }
    // Each connection resumes from a copy, as a separate client holding the same ticket
    // would: with the kept session itself, OpenSSL (3.0.19) was seen to leave it marked not
    // resumable after another connection had used it, and a fifth of the resumptions of two
    // connections per thread were full handshakes.
    if (offer != nullptr) {
      SSL_SESSION* copy = SSL_SESSION_dup(offer);
      if (copy != nullptr) SSL_set_session(ssl_, copy);
      SSL_SESSION_free(copy);  // the SSL holds its own reference
    }
  }
  ~TlsTransport() override { SSL_free(ssl_); }
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  IoResult handshake() override {
    ERR_clear_error();
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return {};
    const IoResult r = failed(rc);
    if (r.status == Io::kClosed || r.status == Io::kError) {
      // Any failure before the handshake is done is a TLS failure, a hang-up included.
      if (r.status == Io::kClosed) error_ = "the server closed the connection during the handshake";
      return {Io::kTlsError};
    }
    return r;
  }

  IoResult read(char* into, std::size_t size) override {
    ERR_clear_error();
    std::size_t got = 0;
    if (SSL_read_ex(ssl_, into, size, &got) == 1) return {Io::kDone, got};
    return failed(0);
  }

  IoResult write(const char* from, std::size_t size) override {
    ERR_clear_error();
    std::size_t sent = 0;
    if (SSL_write_ex(ssl_, from, size, &sent) == 1) return {Io::kDone, sent};
    return failed(0);
  }

  bool buffered() const override { return SSL_pending(ssl_) > 0 || SSL_has_pending(ssl_) == 1; }
  bool resumed() const override { return SSL_session_reused(ssl_) == 1; }
  std::string describe() const override {
    return fmt::format("{} {}", SSL_get_version(ssl_), SSL_get_cipher_name(ssl_));
  }
  void shutdown() override {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // sends close_notify if the socket takes it; the reply is not awaited
    ERR_clear_error();
  }
  std::string error() const override { return error_; }

 private:
  IoResult failed(int rc) {
    const int saved_errno = errno;
    switch (SSL_get_error(ssl_, rc)) {
      case SSL_ERROR_WANT_READ:
        return {Io::kWantRead};
      case SSL_ERROR_WANT_WRITE:
        return {Io::kWantWrite};
      case SSL_ERROR_ZERO_RETURN:
        return {Io::kClosed};  // close_notify, or a plain EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
      case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (saved_errno == 0) return {Io::kClosed};
        error_ = std::strerror(saved_errno);
        return {Io::kError};
      default:
        unsigned long code = 0;
        error_ = take_openssl_reason("TLS failure", &code);
        if (ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
          error_ += fmt::format(": {}", X509_verify_cert_error_string(SSL_get_verify_result(ssl_)));
        }
        return {Io::kTlsError};
    }
  }

  SSL* ssl_;
  std::string error_;
};

}  // namespace

TlsContext::TlsContext(const TlsOptions& options, const std::string& host) : options_(options) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) throw std::runtime_error("TLS: " + take_openssl_reason("SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A server that closes without close_notify is an end of stream, as over plain TCP.
  SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Whole socket reads instead of a header and a body read per record; the records read ahead
  // stay in OpenSSL's buffer, where epoll cannot see them (Transport::buffered).
  SSL_CTX_set_read_ahead(ctx_, 1);
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr) != 1) {
      const std::string reason = take_openssl_reason("cannot load it");
      SSL_CTX_free(ctx_);
      throw std::invalid_argument(fmt::format("--tls-ca: {}: {}", options.ca_file, reason));
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (options.resume) {
    // Sessions are kept per load thread by ConnectionFactory, not in OpenSSL's cache.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx_, on_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  }
  server_name_ = !options.sni.empty() ? options.sni : is_address(host) ? "" : host;
  verify_name_ = !options.sni.empty() ? options.sni : host;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

ConnectionFactory::ConnectionFactory(const TlsContext* tls) : tls_(tls) {}

ConnectionFactory::~ConnectionFactory() {
  SSL_SESSION_free(session_);
}

std::unique_ptr<Transport> ConnectionFactory::open(int fd) {
  if (tls_ == nullptr) return std::make_unique<PlainTransport>(fd);
  SSL_SESSION* offer = tls_->options().resume ? session_ : nullptr;
  return std::make_unique<TlsTransport>(*tls_, *this, offer, fd);
}

void ConnectionFactory::keep_session(SSL_SESSION* session) {
  SSL_SESSION_free(session_);
  session_ = session;
}

}  // namespace srv::loadtest
