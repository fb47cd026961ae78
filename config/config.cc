#include "config/config.h"

#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "config/log_config.h"
#include "config/tls_config.h"
#include "protocols/plugin_loader.h"
#include "protocols/registry.h"
#include "strategies/strategy.h"

namespace srv {
namespace {

using namespace std::chrono_literals;

// yaml-cpp keeps both entries of a repeated key and look-ups find the first, so
// "strategy: epoll" followed by "strategy: poll" would quietly run epoll. YAML 1.2 says keys are
// unique: the second one is an error that names the first.
//
// An alias is the node its anchor names, not a copy, so the tree is a graph: "x: &a [*a]" is a
// cycle (recursing into it overflowed the stack) and ten levels of ten aliases each are 10^10
// paths to one node ("billion laughs", which took for ever). Each collection is checked once,
// known by where it starts in the text; two collections never start at the same place except a
// map and its first key, and keys are not walked into.
void refuse_duplicate_keys(const YAML::Node& node, const std::string& source,
                           std::set<int>& checked) {
  if (!node.IsSequence() && !node.IsMap()) return;
  if (!checked.insert(node.Mark().pos).second) return;
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) refuse_duplicate_keys(item, source, checked);
    return;
  }
  std::map<std::string, YAML::Mark> seen;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (key.IsScalar()) {
      auto [first, inserted] = seen.emplace(key.Scalar(), key.Mark());
      if (!inserted) {
        throw ConfigError(fmt::format("{}:{}:{}: {}: duplicate key; first given at {}:{}:{}",
                                      source, key.Mark().line + 1, key.Mark().column + 1,
                                      key.Scalar(), source, first->second.line + 1,
                                      first->second.column + 1));
      }
    }
    refuse_duplicate_keys(entry.second, source, checked);
  }
}

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) return YAML::Node(YAML::NodeType::Map);
    std::set<int> checked;
    refuse_duplicate_keys(root, source, checked);
    return root;
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("{}:{}:{}: invalid YAML: {}", source, e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
}

// Replaces parent[key] with a fresh node, so that it carries no file position and messages
// about it say "command line" rather than pointing at the line it replaced.
template <typename T>
void override_key(YAML::Node parent, const std::string& key, const T& value) {
  parent.remove(key);
  parent[key] = value;
}

// Command-line values are written into the tree before validation, so one code path checks
// them.
void apply_overrides(YAML::Node& root, const Overrides& o) {
  const YAML::Node& look = root;  // look-ups must not insert (see Section::raw)
  if (o.strategy) override_key(root, "strategy", *o.strategy);
  if (o.max_connections) override_key(root, "max_connections", *o.max_connections);
  for (auto [section, key, value] : {std::tuple{"prefork", "workers", o.workers},
                                     std::tuple{"threadpool", "threads", o.threads}}) {
    if (!value) continue;
    if (!look[section] || !look[section].IsMap())
      override_key(root, section, YAML::Node(YAML::NodeType::Map));
    override_key(root[section], key, *value);
  }
  if (o.listen) {
    YAML::Node listener(YAML::NodeType::Map);
    listener["listen"] = *o.listen;
    // Keep the first listener's protocol (and options) unless --protocol says otherwise, and
    // its TLS settings: the nodes themselves, not clones, which would lose their places in the
    // file for messages.
    YAML::Node old = look["listeners"];
    for (const char* key : {"protocol", "tls"}) {
      if (old && old.IsSequence() && old.size() > 0 && old[0].IsMap() && old[0][key]) {
        listener[key] = old[0][key];
      }
    }
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(listener);
    override_key(root, "listeners", list);
  }
  if (o.protocol && look["listeners"] && look["listeners"].IsSequence()) {
    for (auto listener : look["listeners"]) {
      if (listener.IsMap()) override_key(listener, "protocol", *o.protocol);
    }
  }
}

ListenerConfig read_listener(Section& entry, const LogSettings& log) {
  ListenerConfig out;
  std::string listen = entry.string("listen", "");
  if (listen.empty()) entry.fail("listen", "every listener needs listen: HOST:PORT");
  std::string error;
  if (!parse_endpoint(listen, out.endpoint, error)) entry.fail("listen", error);
  out.backlog = static_cast<int>(entry.integer("backlog", 511, 1, 65535));

  // protocol: NAME | path/libX.so | {name: NAME, options: {...}} | {plugin: PATH, options: {...}}
  YAML::Node proto = entry.raw("protocol");
  std::optional<Section> options;  // emplaced, never assigned: see Section
  std::string plugin;
  if (!proto) {
    out.protocol = "echo";
  } else if (proto.IsScalar()) {
    out.protocol = proto.Scalar();
    if (out.protocol.ends_with(".so")) plugin = out.protocol;
  } else {
    Section spec(entry.file(), proto, entry.key_path("protocol"));
    out.protocol = spec.string("name", "");
    plugin = spec.string("plugin", "");
    if (out.protocol.empty() == plugin.empty()) {
      spec.fail("name", "a protocol map needs either name: PROTOCOL or plugin: PATH");
    }
    options.emplace(spec.child("options"));
    spec.finish();
  }
  if (!options) {
    options.emplace(entry.file(), YAML::Node(YAML::NodeType::Map),
                    entry.key_path("protocol.options"));
  }
  std::string_view default_alpn;
  if (!plugin.empty()) {
    LoadedPlugin loaded = load_plugin(plugin, *options, entry, "protocol");
    options->finish();
    out.protocol = loaded.name;
    out.plugin_path = plugin;
    out.thread_safe = loaded.thread_safe;
    out.fork_safe = loaded.fork_safe;
    out.factory = std::move(loaded.factory);
    out.where = proto;
  } else {
    const ProtocolInfo* info = find_protocol(out.protocol);
    if (!info) {
      config_fail(entry.file(), proto, entry.key_path("protocol"),
                  fmt::format("unknown protocol '{}'; known protocols: {} (or a plugin: "
                              "path/to/libNAME.so)",
                              out.protocol, protocol_names()));
    }
    out.factory = info->create(*options);
    default_alpn = info->alpn;
  }
  out.transport = read_transport(entry, default_alpn);
  out.access_log = read_access_log(entry, log, out.protocol);
  entry.finish();
  return out;
}

ConnectionLimits read_limits(Section& top) {
  ConnectionLimits limits;
  limits.idle_timeout = top.duration("idle_timeout", limits.idle_timeout, 1ms, 24h);
  limits.read_timeout = top.duration("read_timeout", limits.read_timeout, 0ms, 24h);
  limits.write_timeout = top.duration("write_timeout", limits.write_timeout, 0ms, 24h);
  Section s = top.child("limits");
  limits.min_rate.bytes_per_second = static_cast<std::uint64_t>(s.bytes(
      "min_rate", static_cast<std::int64_t>(limits.min_rate.bytes_per_second), 0, 1LL << 40));
  limits.min_rate.grace = s.duration("min_rate_grace", limits.min_rate.grace, 0ms, 24h);
  limits.linger_timeout = s.duration("linger_timeout", limits.linger_timeout, 0ms, 60s);
  limits.read_chunk = static_cast<std::size_t>(
      s.bytes("read_chunk", static_cast<std::int64_t>(limits.read_chunk), 512, 16 << 20));
  limits.max_input_buffer = static_cast<std::size_t>(s.bytes(
      "max_input_buffer", static_cast<std::int64_t>(limits.max_input_buffer), 1024, 1LL << 30));
  limits.output_high_water = static_cast<std::size_t>(s.bytes(
      "output_high_water", static_cast<std::int64_t>(limits.output_high_water), 1, 1LL << 30));
  limits.max_output_bytes = static_cast<std::size_t>(s.bytes(
      "max_output_bytes", static_cast<std::int64_t>(limits.max_output_bytes), 0, 1LL << 40));
  if (limits.max_output_bytes != 0 && limits.max_output_bytes < limits.output_high_water) {
    s.fail("max_output_bytes", "must be 0 (no bound) or at least limits.output_high_water");
  }
  s.finish();
  return limits;
}

AdminConfig read_admin(Section& top) {
  AdminConfig admin;
  YAML::Node node = top.raw("admin");
  if (!node || node.IsNull()) return admin;
  if (!node.IsMap()) top.fail("admin", "must be a map: {listen: HOST:PORT, allow: [...]}");
  Section s = top.child("admin");
  std::string listen = s.string("listen", "");
  if (listen.empty()) s.fail("listen", "the admin listener needs listen: HOST:PORT");
  std::string error;
  if (!parse_endpoint(listen, admin.listen, error)) s.fail("listen", error);
  YAML::Node allow = s.raw("allow");
  if (!allow) {
    admin.allow = loopback_ranges();
  } else if (!allow.IsSequence()) {
    s.fail("allow", "must be a list of addresses or ADDRESS/PREFIX ranges");
  }
  for (std::size_t i = 0; allow && i < allow.size(); ++i) {
    AddressRange range;
    std::string_view text = allow[i].IsScalar() ? allow[i].Scalar() : std::string_view();
    if (!parse_address_range(text, range, error)) {
      config_fail(s.file(), allow[i], s.key_path(fmt::format("allow[{}]", i)), error);
    }
    admin.allow.push_back(range);
  }
  s.finish();
  admin.enabled = true;
  return admin;
}

}  // namespace

Config load_config_text(const std::string& text, const std::string& source,
                        const Overrides& overrides) {
  YAML::Node root = parse_yaml(text, source);
  if (!root.IsMap()) config_fail(source, root, "(top level)", "must be a map of key: value");
  apply_overrides(root, overrides);

  Config config;
  config.source = source;
  Section top(source, root, "");
  config.settings.max_connections =
      static_cast<int>(top.integer("max_connections", 1024, 1, 1'000'000));
  config.settings.shutdown_timeout = top.duration("shutdown_timeout", 10s, 0ms, 24h);
  config.settings.limits = read_limits(top);
  config.pid_file = top.string("pid_file", "");
  config.admin = read_admin(top);
  config.log = read_log(top);

  YAML::Node listeners = top.raw("listeners");
  if (!listeners)
    listeners.reset(parse_yaml(default_config_text(), "(embedded default)")["listeners"]);
  if (!listeners.IsSequence() || listeners.size() == 0) {
    config_fail(source, listeners, "listeners", "must be a list with at least one listener");
  }
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    Section entry(source, listeners[i], fmt::format("listeners[{}]", i));
    config.listeners.push_back(read_listener(entry, config.log));
  }

  config.strategy_name = top.string("strategy", "epoll");
  const StrategyInfo* chosen = find_strategy(config.strategy_name);
  if (!chosen) {
    top.fail("strategy", fmt::format("unknown strategy '{}'; known strategies: {}",
                                     config.strategy_name, strategy_names()));
  }
  // Sections of the strategies not chosen are accepted as they are: each strategy validates its
  // own section against the shared settings, which only makes sense for the one that runs.
  for (const StrategyInfo& info : strategy_registry()) {
    if (&info != chosen) top.raw(info.name);
  }
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& listener = config.listeners[i];
    const char* unsafe = nullptr;
    if (chosen->runs_threads && !listener.thread_safe) unsafe = "threads";
    if (chosen->forks && !listener.fork_safe) unsafe = "fork";
    if (!unsafe) continue;
    config_fail(source, listener.where, fmt::format("listeners[{}].protocol", i),
                fmt::format("plugin '{}' ({}) does not declare itself safe under {}, which "
                            "strategy '{}' uses; pick a strategy without {} or rebuild the plugin",
                            listener.protocol, listener.plugin_path, unsafe, chosen->name, unsafe));
  }
  Section section = top.child(chosen->name);
  config.strategy = chosen->create(section, config.settings, top);
  section.finish();
  top.finish();
  return config;
}

Config load_config(const Overrides& overrides) {
  if (!overrides.config_file) {
    return load_config_text(default_config_text(), "(embedded default)", overrides);
  }
  std::ifstream in(*overrides.config_file);
  if (!in) {
    throw ConfigError(
        fmt::format("{}: cannot open: {}", *overrides.config_file, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_config_text(text.str(), *overrides.config_file, overrides);
}

}  // namespace srv
