#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/tls_settings.h"
#include "server/transport.h"

struct ssl_st;

namespace srv {

/// A TLS setting OpenSSL refused. `key` is the setting ("cert", "ciphers", ...) and
/// `certificate` the index into TlsSettings::certificates it belongs to (-1 for none), so that
/// the config reader can point at the line.
class TlsSetupError : public std::runtime_error {
 public:
  TlsSetupError(std::string key, int certificate, const std::string& what)
      : std::runtime_error(what), key_(std::move(key)), certificate_(certificate) {}
  const std::string& key() const { return key_; }
  int certificate() const { return certificate_; }

 private:
  std::string key_;
  int certificate_;
};

/// The server side of TLS for one listener: one OpenSSL context per certificate, configured
/// alike, with SNI choosing among them and ALPN answered from the settings. Built once at config
/// load (so --check-config reads every file) and shared by every thread and forked process of a
/// generation: OpenSSL contexts are thread-safe, and forked children inherit them (and with them
/// the session ticket keys, so resumption works across prefork workers).
class TlsServer final : public TransportFactory {
 public:
  /// Loads every certificate and key and applies every setting. Throws TlsSetupError.
  explicit TlsServer(TlsSettings settings);
  ~TlsServer() override;
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  std::unique_ptr<Transport> wrap(int fd) override;
  /// Sends a fatal internal_error alert (never the plaintext refusal) and closes.
  void refuse(int fd, std::string_view refusal) override;
  std::string_view name() const override { return "tls"; }

  const TlsSettings& settings() const { return settings_; }

 private:
  struct Context;

  void configure(Context& context, int index);
  static int on_server_name(::ssl_st* ssl, int* alert, void* self);
  static int on_alpn(::ssl_st* ssl, const unsigned char** out, unsigned char* out_len,
                     const unsigned char* in, unsigned int in_len, void* self);
  bool serves(const Context& context, const std::string& name) const;

  TlsSettings settings_;
  std::vector<unsigned char> alpn_wire_;            // ALPN list in wire format (length-prefixed)
  std::vector<std::unique_ptr<Context>> contexts_;  // [0] is the default
};

}  // namespace srv
