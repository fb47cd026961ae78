#include <cctype>
#include <string>

#include "server/plugin.h"

namespace {

// One handler per connection: complete lines come back upper-cased; "whoami" gets the client's
// address, from the context srv gives each new connection.
class Upper final : public srv::ProtocolHandler {
 public:
  explicit Upper(const srv::ConnectionContext& context) : peer_(context.peer) {}  // a copy

  srv::Step on_data(std::string_view in, srv::Buffer& out) override {
    std::size_t end = in.find('\n');
    if (end == std::string_view::npos) return {0, srv::Verdict::kContinue};  // need more
    std::string line(in.substr(0, end + 1));
    if (line == "whoami\n") line = peer_ + "\n";
    for (char& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.append(line);
    return {end + 1, srv::Verdict::kContinue};  // consumed one line
  }

 private:
  std::string peer_;
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
