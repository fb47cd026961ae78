// shout: a line-based example plugin. Every line comes back upper-cased, after an optional
// prefix; a line longer than max_line gets "ERR line too long" and a close.
#include <cctype>
#include <string>

#include "server/plugin.h"

namespace {

class Shout final : public srv::ProtocolHandler {
 public:
  Shout(std::string prefix, std::size_t max_line) : prefix_(std::move(prefix)), max_(max_line) {}
  srv::Step on_data(std::string_view in, srv::Buffer& out) override {
    std::size_t end = in.find('\n');
    if (end == std::string_view::npos) {
      if (in.size() <= max_) return {0, srv::Verdict::kContinue};  // wait for the rest
      out.append("ERR line too long\n");
      return {in.size(), srv::Verdict::kCloseAfterFlush};
    }
    std::string line(in.substr(0, end + 1));
    for (char& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.append(prefix_);
    out.append(line);
    return {end + 1, srv::Verdict::kContinue};
  }

 private:
  std::string prefix_;
  std::size_t max_;
};

class ShoutFactory final : public srv::ProtocolFactory {
 public:
  ShoutFactory(std::string prefix, std::size_t max_line) : prefix_(prefix), max_(max_line) {}
  std::unique_ptr<srv::ProtocolHandler> create(const srv::ConnectionContext&) override {
    return std::make_unique<Shout>(prefix_, max_);
  }

 private:
  std::string prefix_;
  std::size_t max_;
};

srv::ProtocolFactory* make(const srv::PluginOptions& options, std::string* error) {
  std::size_t max_line = 4096;
  for (const auto& [key, value] : options) {
    if (key == "max_line") {
      max_line = std::stoul(value);
    } else if (key != "prefix") {
      *error = "unknown option '" + key + "' (known: prefix, max_line)";
      return nullptr;
    }
  }
  auto prefix = options.count("prefix") ? options.at("prefix") : std::string();
  return new ShoutFactory(prefix, max_line);
}

}  // namespace

SRV_PLUGIN((srv::PluginInfo{.name = "shout",
                            .summary = "each line comes back upper-cased",
                            .thread_safe = true,
                            .fork_safe = true,
                            .create = make}))
