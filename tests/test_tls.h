#pragma once

// TLS for the conformance suite's clients: a throwaway certificate that srv serves and the
// clients trust, the client side of TLS (OpenSSL 3) as a ClientStream, and a ClientHello's bytes
// for tests that send (part of) one by hand.

#include <memory>
#include <string>

#include "tests/test_client.h"

namespace srv::test {

/// The certificate srv serves in TLS tests: a P-256 key and a self-signed certificate for
/// CN=localhost (subjectAltName DNS:localhost, IP:127.0.0.1), valid for two days.
struct TestCertificate {
  std::string cert_path;  ///< PEM certificate
  std::string key_path;   ///< PEM private key, unencrypted
  std::string error;      ///< non-empty if it could not be made; the paths are then empty
};

/// This test process's certificate, made on first use in a temporary folder that is removed
/// when the process exits. Thread-safe.
const TestCertificate& test_certificate();

/// Wraps a connected non-blocking socket in client-side TLS that verifies the server against
/// test_certificate() (name "localhost", sent as SNI). The handshake runs inside the first
/// calls. Takes ownership of `fd`; on failure closes it, returns null and says why in `*error`.
/// Ignores SIGPIPE in this process from the first call on (OpenSSL writes with write(2)).
std::unique_ptr<ClientStream> make_tls_stream(int fd, std::string* error);

/// The bytes of the ClientHello this client sends (one TLS record).
std::string client_hello();

}  // namespace srv::test
