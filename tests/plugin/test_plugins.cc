// Plugins that are wrong on purpose, for tests/plugin_test.cc. One source, several libraries:
// the compile definition PLUGIN_KIND picks which mistake this one makes.
#include "server/plugin.h"

namespace {

class Nothing final : public srv::ProtocolHandler {
 public:
  srv::Step on_data(std::string_view in, srv::Buffer&) override { return {in.size()}; }
};

class NothingFactory final : public srv::ProtocolFactory {
 public:
  std::unique_ptr<srv::ProtocolHandler> create(const srv::ConnectionContext&) override {
    return std::make_unique<Nothing>();
  }
};

[[maybe_unused]] srv::ProtocolFactory* make(const srv::PluginOptions& options, std::string* error) {
  if (options.count("refuse")) {
    *error = "option 'refuse' says no";
    return nullptr;
  }
  return new NothingFactory;
}

}  // namespace

#if PLUGIN_KIND == 1  // built against a future API
SRV_PLUGIN((srv::PluginInfo{.api_version = 999, .name = "future", .create = make}))
#elif PLUGIN_KIND == 2  // shares state without locks, and must not be forked
SRV_PLUGIN((srv::PluginInfo{
    .name = "fragile", .thread_safe = false, .fork_safe = false, .create = make}))
#elif PLUGIN_KIND == 3  // safe under threads, not under fork
SRV_PLUGIN((srv::PluginInfo{
    .name = "threadsonly", .thread_safe = true, .fork_safe = false, .create = make}))
#else                   // no entry point at all
extern "C" {
__attribute__((visibility("default"))) int not_a_plugin = 1;
}
#endif
