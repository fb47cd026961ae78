#pragma once

#include <memory>

#include "config/section.h"
#include "server/protocol.h"

namespace srv {

/// Every byte comes back unchanged and in order. The handler keeps no state.
class EchoHandler final : public ProtocolHandler {
 public:
  Step on_data(std::string_view in, Buffer& out) override;
};

std::unique_ptr<ProtocolFactory> make_echo_protocol(Section& options);

}  // namespace srv
