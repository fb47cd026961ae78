#include <cctype>

#include "server/plugin.h"

namespace {

// One handler per connection: complete lines come back upper-cased.
class Upper final : public srv::ProtocolHandler {
 public:
  srv::Step on_data(std::string_view in, srv::Buffer& out) override {
    std::size_t end = in.find('\n');
    if (end == std::string_view::npos) return {0, srv::Verdict::kContinue};  // need more
    for (char c : in.substr(0, end + 1)) {
      char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.append(std::string_view(&upper, 1));
    }
    return {end + 1, srv::Verdict::kContinue};  // consumed one line
  }
};

class UpperFactory final : public srv::ProtocolFactory {
 public:
  std::unique_ptr<srv::ProtocolHandler> create() override { return std::make_unique<Upper>(); }
};

srv::ProtocolFactory* make(const srv::PluginOptions& options, std::string* error) {
  if (!options.empty()) *error = "upper takes no options";
  return options.empty() ? new UpperFactory : nullptr;
}

}  // namespace

SRV_PLUGIN((srv::PluginInfo{.name = "upper", .thread_safe = true, .fork_safe = true,
                            .create = make}))
