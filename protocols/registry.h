#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "config/section.h"
#include "server/protocol.h"

namespace srv {

/// One entry of the protocol registry.
struct ProtocolInfo {
  std::string_view name;
  std::string_view summary;
  /// The ALPN protocol id a TLS listener offers for it by default ("http/1.1"); empty for none.
  std::string_view alpn;
  /// Reads and validates the listener's `options` map (throws ConfigError) and returns the
  /// factory that serves that listener.
  std::unique_ptr<ProtocolFactory> (*create)(Section& options);
};

std::span<const ProtocolInfo> protocol_registry();
const ProtocolInfo* find_protocol(std::string_view name);
std::string protocol_names();

}  // namespace srv
