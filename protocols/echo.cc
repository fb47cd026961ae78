#include "protocols/echo.h"

namespace srv {
namespace {

class EchoFactory final : public ProtocolFactory {
 public:
  std::unique_ptr<ProtocolHandler> create(const ConnectionContext&) override {
    return std::make_unique<EchoHandler>();
  }
};

}  // namespace

Step EchoHandler::on_data(std::string_view in, Buffer& out) {
  out.append(in);
  return {in.size(), Verdict::kContinue};
}

std::unique_ptr<ProtocolFactory> make_echo_protocol(Section& options) {
  options.finish();  // echo takes no options; any key is a typo
  return std::make_unique<EchoFactory>();
}

}  // namespace srv
