#include <cctype>
#include <string>

#include "server/plugin.h"

namespace {

// One handler per connection: complete lines come back upper-cased; "whoami" names the client.
class Upper final : public srv::ProtocolHandler {
 public:
  explicit Upper(const srv::ConnectionContext& context) : peer_(context.peer) {}

  srv::Step on_data(std::string_view in, srv::Buffer& out) override {
    std::size_t end = in.find('\n');
    if (end == std::string_view::npos) return {0, srv::Verdict::kContinue};  // need more
    if (in.substr(0, end) == "whoami") {
      out.append(peer_ + "\n");
      return {end + 1, srv::Verdict::kContinue};
    }
    for (char c : in.substr(0, end + 1)) {
      char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.append(std::string_view(&upper, 1));
    }
    return {end + 1, srv::Verdict::kContinue};  // consumed one line
  }

 private:
  std::string peer_;  // "HOST:PORT"; the context's strings live only during create()
};

class UpperFactory final : public srv::ProtocolFactory {
 public:
  std::unique_ptr<srv::ProtocolHandler> create(const srv::ConnectionContext& context) override {
    return std::make_unique<Upper>(context);
  }
};

srv::ProtocolFactory* make(const srv::PluginOptions& options, std::string* error) {
  if (!options.empty()) *error = "upper takes no options";
  return options.empty() ? new UpperFactory : nullptr;
}

}  // namespace

SRV_PLUGIN((srv::PluginInfo{.name = "upper", .thread_safe = true, .fork_safe = true,
                            .create = make}))
