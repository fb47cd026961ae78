// Throwaway TLS credentials: `compare --tls` gives one to every srv it starts, and the tests
// serve with them. Made with the OpenSSL API, so no `openssl` command is needed.
#pragma once

#include <filesystem>
#include <string>

namespace srv::loadtest {

struct SelfSigned {
  std::string cert_pem;  ///< self-signed X.509 certificate
  std::string key_pem;   ///< its private key (PKCS#8, unencrypted)
};

/// An ECDSA P-256 key and a self-signed certificate (CA:TRUE, so it is its own trust anchor)
/// for CN=`name`, subjectAltName DNS:`name`, IP:127.0.0.1, IP:::1, valid from a minute ago
/// for `days`. Throws std::runtime_error with OpenSSL's reason.
SelfSigned make_self_signed(const std::string& name = "localhost", int days = 2);

/// Writes the certificate and the key (mode 0600). Throws std::runtime_error.
void write_self_signed(const SelfSigned& credentials, const std::filesystem::path& cert,
                       const std::filesystem::path& key);

}  // namespace srv::loadtest
