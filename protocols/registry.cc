#include "protocols/registry.h"

#include <array>

#include "protocols/echo.h"

namespace srv {
namespace {

const std::array kProtocols = {
    ProtocolInfo{"echo", "every byte comes back unchanged, in order", make_echo_protocol},
};

}  // namespace

std::span<const ProtocolInfo> protocol_registry() {
  return kProtocols;
}

const ProtocolInfo* find_protocol(std::string_view name) {
  for (const auto& info : kProtocols) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string protocol_names() {
  std::string names;
  for (const auto& info : kProtocols) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

}  // namespace srv
