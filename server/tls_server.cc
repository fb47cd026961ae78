#include "server/tls_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "server/tls_transport.h"

namespace srv {

struct TlsServer::Context {
  SSL_CTX* ctx = nullptr;
  X509* leaf = nullptr;  // owned by ctx
  std::vector<std::string> sni;
  ~Context() { SSL_CTX_free(ctx); }
};

namespace {

// The reason of the most recent OpenSSL error, or `fallback`; clears the queue.
std::string openssl_reason(std::string_view fallback) {
  unsigned long code = ERR_peek_last_error();
  std::string out = code != 0 && ERR_reason_error_string(code) ? ERR_reason_error_string(code)
                                                               : std::string(fallback);
  ERR_clear_error();
  return out;
}

void check_readable(const std::string& path, const char* key, int index) {
  if (path.empty()) throw TlsSetupError(key, index, "needs a file name");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    throw TlsSetupError(key, index, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  std::fclose(file);
}

// A key protected by a passphrase cannot be loaded unattended: refuse rather than prompt.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

// "*.example.com" matches "a.example.com" (one label), as certificates' wildcards do.
bool name_matches(std::string_view pattern, std::string_view name) {
  bool same =
      std::equal(pattern.begin(), pattern.end(), name.begin(), name.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      });
  // Not `return same` when the lengths agree: "*.example.com" must still match "a.example.com".
  if (same) return true;
  if (!pattern.starts_with("*.")) return false;
  std::size_t dot = name.find('.');
  return dot != std::string_view::npos && dot > 0 &&
         name_matches(pattern.substr(1), name.substr(dot));
}

// The 7 bytes of a TLS record holding one fatal internal_error alert.
constexpr unsigned char kInternalErrorAlert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50};

}  // namespace

TlsServer::TlsServer(TlsSettings settings) : settings_(std::move(settings)) {
  if (settings_.certificates.empty()) throw TlsSetupError("cert", 0, "needs a certificate");
  for (const std::string& protocol : settings_.alpn) {
    if (protocol.empty() || protocol.size() > 255) {
      throw TlsSetupError("alpn", -1,
                          fmt::format("'{}' is not a valid ALPN protocol id", protocol));
    }
    alpn_wire_.push_back(static_cast<unsigned char>(protocol.size()));
    alpn_wire_.insert(alpn_wire_.end(), protocol.begin(), protocol.end());
  }
  for (std::size_t i = 0; i < settings_.certificates.size(); ++i) {
    auto context = std::make_unique<Context>();
    context->ctx = SSL_CTX_new(TLS_server_method());
    if (!context->ctx)
      throw TlsSetupError("cert", static_cast<int>(i), openssl_reason("out of memory"));
    configure(*context, static_cast<int>(i));
    contexts_.push_back(std::move(context));
  }
}

TlsServer::~TlsServer() = default;

void TlsServer::configure(Context& context, int index) {
  SSL_CTX* ctx = context.ctx;
  const TlsCertificate& certificate = settings_.certificates[static_cast<std::size_t>(index)];
  check_readable(certificate.cert, "cert", index);
  check_readable(certificate.key, "key", index);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.cert.c_str()) != 1) {
    throw TlsSetupError("cert", index,
                        fmt::format("{} holds no usable PEM certificate: {}", certificate.cert,
                                    openssl_reason("unreadable")));
  }
  bool loaded = SSL_CTX_use_PrivateKey_file(ctx, certificate.key.c_str(), SSL_FILETYPE_PEM) == 1;
  if (!loaded && ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    throw TlsSetupError(
        "key", index,
        fmt::format("{} does not match the certificate in {}", certificate.key, certificate.cert));
  }
  if (!loaded) {
    throw TlsSetupError("key", index,
                        fmt::format("{} holds no usable PEM private key (a passphrase-protected "
                                    "key cannot be used): {}",
                                    certificate.key, openssl_reason("unreadable")));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    throw TlsSetupError(
        "key", index,
        fmt::format("{} does not match the certificate in {}", certificate.key, certificate.cert));
  }
  context.leaf = SSL_CTX_get0_certificate(ctx);
  context.sni = certificate.sni;

  SSL_CTX_set_min_proto_version(ctx, settings_.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(ctx, settings_.ciphers.c_str()) != 1) {
    throw TlsSetupError("ciphers", -1,
                        fmt::format("no TLS 1.2 cipher matches '{}': {}", settings_.ciphers,
                                    openssl_reason("no cipher match")));
  }
  if (SSL_CTX_set_ciphersuites(ctx, settings_.ciphersuites.c_str()) != 1) {
    throw TlsSetupError("ciphersuites", -1,
                        fmt::format("no TLS 1.3 cipher suite matches '{}': {}",
                                    settings_.ciphersuites, openssl_reason("no cipher match")));
  }
  if (SSL_CTX_set1_groups_list(ctx, settings_.groups.c_str()) != 1) {
    throw TlsSetupError("groups", -1,
                        fmt::format("unknown group in '{}': {}", settings_.groups,
                                    openssl_reason("unknown group")));
  }
  SSL_CTX_set_dh_auto(ctx, 1);  // DHE suites of the intermediate profile use ffdhe2048

  // Every byte moves through srv's own buffers, which may slide between retries; idle
  // connections give their OpenSSL buffers back; read-ahead takes a whole socket buffer per
  // recv (decrypted-but-unread bytes are then served through Transport::has_pending). A client
  // that closes TCP without close_notify has ended its side, as with a plain socket: the
  // protocols frame their own messages, so truncation cannot go unnoticed.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(ctx, 1);
  long options = SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION;
  if (!settings_.session_tickets) options |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(ctx, static_cast<std::uint64_t>(options));

  static constexpr unsigned char kSessionContext[] = "srv";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (settings_.session_cache > 0) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, settings_.session_cache);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }

  if (!settings_.client_ca.empty()) {
    check_readable(settings_.client_ca, "client_ca", -1);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings_.client_ca.c_str());
    if (!names || SSL_CTX_load_verify_locations(ctx, settings_.client_ca.c_str(), nullptr) != 1) {
      if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
      throw TlsSetupError("client_ca", -1,
                          fmt::format("{} holds no usable PEM CA certificate: {}",
                                      settings_.client_ca, openssl_reason("unreadable")));
    }
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  int verify = SSL_VERIFY_NONE;
  if (settings_.verify_client == ClientVerify::kOptional) verify = SSL_VERIFY_PEER;
  if (settings_.verify_client == ClientVerify::kRequired) {
    verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, verify, nullptr);

  // The macro for this casts C-style; the call it expands to, spelled out.
  SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(on_server_name));
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
  if (!alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, on_alpn, this);
}

bool TlsServer::serves(const Context& context, const std::string& name) const {
  if (context.sni.empty()) {
    return X509_check_host(context.leaf, name.data(), name.size(), 0, nullptr) == 1;
  }
  for (const std::string& pattern : context.sni) {
    if (name_matches(pattern, name)) return true;
  }
  return false;
}

int TlsServer::on_server_name(::ssl_st* ssl, int* alert, void* self) {
  (void)alert;
  auto& server = *static_cast<TlsServer*>(self);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || server.contexts_.size() == 1) return SSL_TLSEXT_ERR_OK;
  std::string wanted(name);
  for (const auto& context : server.contexts_) {
    if (server.serves(*context, wanted)) {
      if (SSL_get_SSL_CTX(ssl) != context->ctx) SSL_set_SSL_CTX(ssl, context->ctx);
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_OK;  // like nginx's default server: the first certificate answers
}

int TlsServer::on_alpn(::ssl_st* ssl, const unsigned char** out, unsigned char* out_len,
                       const unsigned char* in, unsigned int in_len, void* self) {
  (void)ssl;
  auto& server = *static_cast<TlsServer*>(self);
  unsigned char* chosen = nullptr;
  int found =
      SSL_select_next_proto(&chosen, out_len, server.alpn_wire_.data(),
                            static_cast<unsigned int>(server.alpn_wire_.size()), in, in_len);
  if (found != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // RFC 7301: no_application_protocol
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::unique_ptr<Transport> TlsServer::wrap(int fd) {
  // A reply written right after the session tickets (or any record) would otherwise wait, under
  // Nagle, for the client's delayed ACK of them: 40 ms on the first reply of every connection.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SSL* ssl = SSL_new(contexts_.front()->ctx);
  if (ssl && SSL_set_fd(ssl, fd) == 1) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_free(ssl);  // out of memory: the transport fails its first call and is closed
    ssl = nullptr;
    ERR_clear_error();
  }
  return std::make_unique<TlsTransport>(fd, ssl, settings_.handshake_timeout);
}

void TlsServer::refuse(int fd, std::string_view refusal) {
  (void)refusal;  // plaintext would be a protocol error on a TLS port
  // Read what already arrived (the ClientHello) so the close is a FIN, not a reset that could
  // discard the alert before the client reads it.
  char scratch[4096];
  while (::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0) {
  }
  [[maybe_unused]] auto n =
      ::send(fd, kInternalErrorAlert, sizeof kInternalErrorAlert, MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

}  // namespace srv
