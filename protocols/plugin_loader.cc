#include "protocols/plugin_loader.h"

#include <dlfcn.h>

#include <filesystem>

#include <fmt/format.h>

#include "server/plugin.h"

namespace srv {
namespace {

PluginOptions to_plugin_options(Section& options) {
  PluginOptions out;
  if (!options.node().IsMap()) return out;
  for (const auto& entry : options.node()) {
    const std::string& key = entry.first.Scalar();
    options.raw(key);  // every key is the plugin's to judge
    if (entry.second.IsScalar()) {
      out[key] = entry.second.Scalar();
    } else {
      YAML::Emitter flow;
      flow << YAML::Flow << entry.second;
      out[key] = flow.c_str();
    }
  }
  return out;
}

std::string resolve(const std::string& path, const std::string& config_file) {
  std::filesystem::path p(path);
  if (p.is_absolute() || config_file.empty() || config_file.front() == '(') return path;
  return (std::filesystem::path(config_file).parent_path() / p).string();
}

}  // namespace

LoadedPlugin load_plugin(const std::string& path, Section& options, const Section& where,
                         std::string_view key) {
  std::string file = resolve(path, where.file());
  // RTLD_LOCAL: two plugins may define the same symbols without clashing.
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) where.fail(key, fmt::format("cannot load plugin: {}", ::dlerror()));
  using Entry = const PluginInfo* (*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, SRV_PLUGIN_SYMBOL));
  if (!entry) {
    where.fail(key, fmt::format("{} is not a srv plugin: it exports no {}() (use SRV_PLUGIN)", file,
                                SRV_PLUGIN_SYMBOL));
  }
  const PluginInfo* info = entry();
  if (info->api_version != SRV_PLUGIN_API_VERSION) {
    where.fail(key, fmt::format("{} was built against srv plugin API {}, this srv speaks API {}; "
                                "rebuild the plugin against this srv's headers",
                                file, info->api_version, SRV_PLUGIN_API_VERSION));
  }
  if (info->abi_sizes != PluginInfo{}.abi_sizes || !info->create) {
    where.fail(key, fmt::format("{} was built with a different layout of srv's types (another "
                                "compiler or flags); rebuild it against this srv's headers",
                                file));
  }
  std::string error;
  std::unique_ptr<ProtocolFactory> factory(info->create(to_plugin_options(options), &error));
  if (!factory) {
    where.fail(key, fmt::format("plugin {} refused its options: {}", info->name,
                                error.empty() ? "no reason given" : error));
  }
  return LoadedPlugin{info->name, info->thread_safe, info->fork_safe, std::move(factory)};
}

}  // namespace srv
