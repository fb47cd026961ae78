#include "tests/test_tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>

#include <fmt/format.h>

namespace srv::test {
namespace {

using Kind = Step::Kind;

// The reason of the most recent OpenSSL error, or `fallback`; clears the queue.
std::string openssl_error(std::string_view fallback) {
  unsigned long code = ERR_peek_last_error();
  char text[256] = {};
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return code != 0 ? std::string(text) : std::string(fallback);
}

bool write_pem(const std::string& path, const std::function<int(std::FILE*)>& write) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (!file) return false;
  bool ok = write(file) == 1;
  return std::fclose(file) == 0 && ok;
}

// Fills `out` with a fresh key and self-signed certificate in `dir`; "" or what failed.
std::string make_certificate(const std::string& dir, TestCertificate& out) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return openssl_error("out of memory");
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(::getpid()));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 2L * 24 * 3600);
  X509_set_pubkey(x, key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  // As `openssl req -x509` makes it: its own CA, so that clients can trust it as the root.
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!extension || X509_add_ext(x, extension, -1) != 1) {
      X509_EXTENSION_free(extension);
      return openssl_error("cannot add an extension");
    }
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) return openssl_error("cannot sign");
  out.cert_path = dir + "/cert.pem";
  out.key_path = dir + "/key.pem";
  if (!write_pem(out.key_path,
                 [&](std::FILE* f) {
                   return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
                 }) ||
      !write_pem(out.cert_path, [&](std::FILE* f) { return PEM_write_X509(f, x); })) {
    return fmt::format("cannot write {}: {}", dir, std::strerror(errno));
  }
  return "";
}

/// The certificate's folder, removed with the files in it when the process exits.
class CertificateFolder {
 public:
  CertificateFolder() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/srv-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!::mkdtemp(pattern.data())) {
      certificate_.error = fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno));
      return;
    }
    dir_ = pattern;
    certificate_.error = make_certificate(dir_, certificate_);
    if (!certificate_.error.empty()) certificate_.cert_path = certificate_.key_path = "";
  }
  ~CertificateFolder() {
    if (dir_.empty()) return;
    for (const char* file : {"/cert.pem", "/key.pem"}) ::unlink((dir_ + file).c_str());
    ::rmdir(dir_.c_str());
  }
  CertificateFolder(const CertificateFolder&) = delete;
  CertificateFolder& operator=(const CertificateFolder&) = delete;

  const TestCertificate& certificate() const { return certificate_; }

 private:
  std::string dir_;
  TestCertificate certificate_;
};

using ContextPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// The client context every test connection shares, or null with `error` set.
ContextPtr make_client_context(std::string& error) {
  ContextPtr ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  const TestCertificate& certificate = test_certificate();
  if (!certificate.error.empty()) {
    error = "no test certificate: " + certificate.error;
    return ContextPtr(nullptr, SSL_CTX_free);
  }
  if (!ctx ||
      SSL_CTX_load_verify_locations(ctx.get(), certificate.cert_path.c_str(), nullptr) != 1) {
    error = "client TLS context: " + openssl_error("out of memory");
    return ContextPtr(nullptr, SSL_CTX_free);
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  // The helpers retry a blocked write with the same bytes, but from a buffer that may move.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

// SSL_set_tlsext_host_name, whose macro casts C-style, spelled out.
bool set_server_name(SSL* ssl, const char* name) {
  return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(name)) == 1;
}

SSL_CTX* client_context(std::string& error) {
  static std::string setup_error;
  static const ContextPtr context = [] {
    // A write to a peer that has gone would otherwise kill the test process.
    ::signal(SIGPIPE, SIG_IGN);
    return make_client_context(setup_error);
  }();
  error = setup_error;
  return context.get();
}

/// Client-side TLS over a non-blocking socket (OpenSSL's socket BIO). Once the connection has
/// ended, every call returns how it ended.
class TlsStream final : public ClientStream {
 public:
  TlsStream(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~TlsStream() override {
    SSL_free(ssl_);  // the socket BIO does not own the fd
    ::close(fd_);
  }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  int fd() const override { return fd_; }

  Step read(std::span<char> into) override {
    if (end_) return *end_;
    std::size_t n = 0;
    ERR_clear_error();
    int rc = SSL_read_ex(ssl_, into.data(), into.size(), &n);
    return rc == 1 ? Step::moved(n) : failed(rc);
  }

  Step write(std::string_view bytes) override {
    if (end_) return *end_;
    std::size_t n = 0;
    ERR_clear_error();
    int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n);
    return rc == 1 ? Step::moved(n) : failed(rc);
  }

  Step shutdown_write() override {
    if (end_) return *end_;
    if (!close_notify_sent_) {
      Step done = handshake();
      if (done.kind != Kind::kMoved) return done;
      ERR_clear_error();
      int rc = SSL_shutdown(ssl_);  // 0: our close_notify is out; reading goes on
      if (rc < 0) return failed(rc);
      close_notify_sent_ = true;
    }
    if (::shutdown(fd_, SHUT_WR) != 0) {
      return Step::error(fmt::format("shutdown(SHUT_WR): {}", std::strerror(errno)));
    }
    return Step::moved();
  }

  // Decrypted bytes not read yet. Not SSL_has_pending: that also counts half a record, which
  // only the socket can complete (and polling it then is right). Without read-ahead OpenSSL
  // takes no whole record off the socket before it is asked to.
  bool has_pending() const override { return !end_ && SSL_pending(ssl_) > 0; }
  std::string peer_alert() const override { return alert_; }

 private:
  Step handshake() {
    if (end_) return *end_;
    if (SSL_is_init_finished(ssl_)) return Step::moved();
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl_);
    return rc == 1 ? Step::moved() : failed(rc);
  }

  // Translates a failed call; an ending (not a would-block) sticks.
  Step failed(int rc) {
    const int err = errno;
    const int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ) return Step::blocked(false);
    if (error == SSL_ERROR_WANT_WRITE) return Step::blocked(true);
    Step step = Step::closed("");
    const unsigned long code = ERR_peek_last_error();
    const int reason = ERR_GET_REASON(code);
    if (error == SSL_ERROR_ZERO_RETURN) {
      step.what = "close_notify";
    } else if (error == SSL_ERROR_SYSCALL && code == 0) {
      step.what =
          err == 0 ? "EOF without close_notify" : fmt::format("{} ({})", std::strerror(err), err);
    } else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      step.what = "EOF without close_notify";
    } else if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
      alert_ = SSL_alert_desc_string_long(reason - SSL_AD_REASON_OFFSET);
      for (char& c : alert_) c = c == ' ' ? '_' : c;
      step.what = fmt::format("fatal TLS alert {} from the server", alert_);
    } else {
      step.kind = Kind::kError;
      long verify = SSL_get_verify_result(ssl_);
      step.what = "TLS: " + openssl_error(fmt::format("SSL_get_error {}", error)) +
                  (verify != X509_V_OK
                       ? fmt::format(" (certificate: {})", X509_verify_cert_error_string(verify))
                       : std::string());
    }
    ERR_clear_error();
    end_ = step;
    return step;
  }

  int fd_;
  SSL* ssl_;
  std::optional<Step> end_;
  std::string alert_;
  bool close_notify_sent_ = false;
};

}  // namespace

const TestCertificate& test_certificate() {
  static const CertificateFolder folder;
  return folder.certificate();
}

std::unique_ptr<ClientStream> make_tls_stream(int fd, std::string* error) {
  std::string why;
  SSL_CTX* ctx = client_context(why);
  SSL* ssl = ctx ? SSL_new(ctx) : nullptr;
  if (!ssl || SSL_set_fd(ssl, fd) != 1 || !set_server_name(ssl, "localhost") ||
      SSL_set1_host(ssl, "localhost") != 1) {
    if (why.empty()) why = "client TLS session: " + openssl_error("out of memory");
    SSL_free(ssl);
    ::close(fd);
    if (error) *error = why;
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  return std::make_unique<TlsStream>(fd, ssl);
}

std::string client_hello() {
  std::string why;
  SSL_CTX* ctx = client_context(why);
  if (!ctx) return {};
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  std::string hello;
  if (ssl && in && out) {
    SSL_set_bio(ssl, in, out);  // the SSL owns both from here
    in = out = nullptr;
    set_server_name(ssl, "localhost");
    SSL_set_connect_state(ssl);
    SSL_do_handshake(ssl);  // writes the ClientHello, then wants the server's answer
    char* data = nullptr;
    long size = BIO_ctrl(SSL_get_wbio(ssl), BIO_CTRL_INFO, 0, static_cast<void*>(&data));
    if (size > 0) hello.assign(data, static_cast<std::size_t>(size));
  }
  BIO_free(in);
  BIO_free(out);
  SSL_free(ssl);
  ERR_clear_error();
  return hello;
}

}  // namespace srv::test
