#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/section.h"
#include "protocols/admin.h"
#include "server/access_log.h"
#include "server/log.h"
#include "server/protocol.h"
#include "server/settings.h"
#include "server/socket.h"
#include "server/transport.h"

namespace srv {

class Strategy;

/// Values given on the command line; each overrides the same key of the file.
struct Overrides {
  std::optional<std::string> config_file;
  std::optional<std::string> strategy;
  std::optional<std::string> protocol;
  std::optional<std::string> listen;
  std::optional<int> workers;
  std::optional<int> threads;
  std::optional<int> max_connections;
};

struct ListenerConfig {
  Endpoint endpoint;
  int backlog = 511;
  std::string protocol;
  std::shared_ptr<ProtocolFactory> factory;
  /// Plain TCP, or TLS with its certificates already loaded.
  std::shared_ptr<TransportFactory> transport;
  /// Built-in protocols are safe everywhere; a plugin says what it is safe under.
  std::string plugin_path;
  bool thread_safe = true;
  bool fork_safe = true;
  YAML::Node where;  ///< the protocol node, for messages
  /// `access_log: PATH`, opened; nullptr: none.
  std::shared_ptr<const AccessLog> access_log;
};

/// `admin: {listen: HOST:PORT, allow: [RANGE, ...]}`: the metrics and status listener. Off when
/// the key is absent; `allow` defaults to loopback.
struct AdminConfig {
  bool enabled = false;
  Endpoint listen;
  std::vector<AddressRange> allow;
};

/// A loaded and fully validated configuration: strategy and protocols are already constructed
/// (which is how they validate their own sections), nothing is bound yet.
struct Config {
  std::string source;  ///< file name, or "(embedded default)"
  std::string strategy_name;
  std::shared_ptr<Strategy> strategy;
  std::vector<ListenerConfig> listeners;
  ServerSettings settings;
  AdminConfig admin;
  LogSettings log;
  /// Where the master writes its pid ("" for nowhere); `srv -s SIGNAL` reads it.
  std::string pid_file;
};

/// Reads the file named in `overrides` (or the embedded default), applies the overrides and
/// validates everything. Throws ConfigError with `file:line:col: key: what is wrong`.
Config load_config(const Overrides& overrides);

/// Same, from YAML text already in memory; `source` names it in messages.
Config load_config_text(const std::string& text, const std::string& source,
                        const Overrides& overrides);

/// The configuration plain `srv` runs (see config/default_config.cc).
const std::string& default_config_text();

}  // namespace srv
