#pragma once

#include <memory>
#include <string>

#include "config/section.h"
#include "server/protocol.h"

namespace srv {

/// A protocol loaded from a plugin, with what it declared about itself.
struct LoadedPlugin {
  std::string name;
  bool thread_safe = false;
  bool fork_safe = false;
  std::shared_ptr<ProtocolFactory> factory;
};

/// Loads the plugin at `path` (relative paths are taken from the config file's folder) and
/// makes its factory from `options`. Throws ConfigError located at `where` when the file cannot
/// be loaded, exports no entry point, was built against another plugin API, or refuses an
/// option. The library stays loaded for the life of the process. Main thread only.
LoadedPlugin load_plugin(const std::string& path, Section& options, const Section& where,
                         std::string_view key);

}  // namespace srv
