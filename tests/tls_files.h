#pragma once

// PEM files for tests that configure TLS (config_test.cc, tests/fuzz/tls_fuzz.cc), made with the
// OpenSSL API so that no test depends on the openssl command or on committed keys.

#include <string>

namespace srv::test {

struct TlsFiles {
  std::string dir;   ///< the temporary folder holding them all
  std::string cert;  ///< self-signed P-256 certificate, CN=localhost, DNS:localhost, IP:127.0.0.1
  std::string key;   ///< the key of `cert`, unencrypted
  std::string stray_key;  ///< a P-256 key that matches no certificate
  std::string junk;       ///< a file that holds no PEM at all
};

/// This process's files, made on first use in a temporary folder removed at exit. Thread-safe.
/// Throws std::runtime_error if OpenSSL or the file system fails.
const TlsFiles& tls_files();

}  // namespace srv::test
