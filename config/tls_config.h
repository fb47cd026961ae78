#pragma once

#include <memory>
#include <string_view>

#include "config/section.h"
#include "server/transport.h"

namespace srv {

/// The transport of one listener from its `tls` key: plain TCP when absent, else a TlsServer
/// with every certificate and key loaded. Relative file names are taken from the config file's
/// folder. `default_alpn` ("http/1.1" for http, empty for none) applies when `alpn` is not set.
/// Throws ConfigError at the offending key (a missing file, a key that does not match its
/// certificate, a cipher string OpenSSL rejects).
std::shared_ptr<TransportFactory> read_transport(Section& listener, std::string_view default_alpn);

}  // namespace srv
