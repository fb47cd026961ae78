#pragma once

// What a listener's `tls:` section says, read and range-checked by config/tls_config.cc and
// turned into OpenSSL contexts by server/tls_server.cc. Defaults follow Mozilla's "intermediate"
// profile (https://wiki.mozilla.org/Security/Server_Side_TLS, version 5.7).

#include <string>
#include <vector>

#include "server/clock.h"

namespace srv {

/// One certificate chain and its key. `sni` lists the server names it serves ("example.com",
/// "*.example.com"); empty means the names the certificate itself carries.
struct TlsCertificate {
  std::string cert;
  std::string key;
  std::vector<std::string> sni;
};

enum class ClientVerify {
  kOff,       ///< no client certificate asked for
  kOptional,  ///< asked for, verified against client_ca when sent
  kRequired,  ///< a client without a valid certificate is refused
};

struct TlsSettings {
  /// The first one is the default: served when SNI names none of the others (or is absent).
  std::vector<TlsCertificate> certificates;
  std::string client_ca;
  ClientVerify verify_client = ClientVerify::kOff;
  bool tls13_only = false;  ///< min_version TLSv1.3; TLSv1.2 otherwise (nothing older)
  /// TLS 1.2 cipher list (OpenSSL syntax).
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
      "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
  /// TLS 1.3 cipher suites.
  std::string ciphersuites =
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  std::string groups = "X25519:P-256:P-384";
  /// Application protocols offered by ALPN, most preferred first; empty: no ALPN.
  std::vector<std::string> alpn;
  bool session_tickets = true;
  /// Sessions kept per process for resumption by session id; 0 turns the cache off.
  long session_cache = 20480;
  milliseconds handshake_timeout{10'000};
};

}  // namespace srv
