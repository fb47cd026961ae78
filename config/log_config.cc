#include "config/log_config.h"

#include <system_error>

#include <fmt/format.h>

namespace srv {
namespace {

// The file named under `key`, opened for appending; nullptr when the key is absent or empty.
std::shared_ptr<LogFile> open_log_file(Section& section, std::string_view key) {
  std::string path = resolve_config_path(section, section.string(key, ""));
  if (path.empty()) return nullptr;
  try {
    return LogFile::open(path);
  } catch (const std::system_error& e) {
    section.fail(key, e.what());
  }
}

// log_level and log: both given. The later one in the file is the mistake.
[[noreturn]] void refuse_both(Section& top, const YAML::Node& map, const YAML::Node& shorthand) {
  bool map_later = map.Mark().pos > shorthand.Mark().pos;
  top.fail(map_later ? "log" : "log_level",
           map_later ? "log_level is given already; say the level once, as log.level"
                     : "log is given already; say the level once, as log.level");
}

}  // namespace

LogSettings read_log(Section& top) {
  LogSettings log;
  YAML::Node map = top.raw("log");
  YAML::Node shorthand = top.raw("log_level");
  if (map && shorthand) refuse_both(top, map, shorthand);
  if (map && !map.IsNull() && !map.IsMap()) {
    top.fail("log", "must be a map: {level: info, format: text, file: PATH}");
  }
  // "log:" with nothing under it is the defaults, as an absent key.
  Section s(top.file(), map && map.IsMap() ? map : YAML::Node(YAML::NodeType::Map), "log");
  Section& level_at = shorthand ? top : s;
  std::string_view level_key = shorthand ? "log_level" : "level";
  log.level = level_at.string(level_key, "info");
  if (log.level != "debug" && log.level != "info" && log.level != "warn" && log.level != "error") {
    level_at.fail(level_key,
                  fmt::format("must be debug, info, warn or error, got '{}'", log.level));
  }
  std::string format = s.string("format", "text");
  if (format != "text" && format != "json") {
    s.fail("format", fmt::format("must be text or json, got '{}'", format));
  }
  log.format = format == "json" ? LogFormat::kJson : LogFormat::kText;
  log.file = open_log_file(s, "file");
  s.finish();
  return log;
}

std::shared_ptr<const AccessLog> read_access_log(Section& listener, const LogSettings& log,
                                                 const std::string& protocol) {
  std::shared_ptr<LogFile> file = open_log_file(listener, "access_log");
  if (!file) return nullptr;
  return std::make_shared<const AccessLog>(std::move(file), log.format, protocol);
}

}  // namespace srv
