#include "config/section.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

namespace srv {
namespace {

struct Unit {
  std::string_view suffix;
  double factor;
};

// Longest suffixes first so "ms" is not read as "m" + garbage.
constexpr Unit kByteUnits[] = {{"KiB", 1024.0},
                               {"MiB", 1024.0 * 1024},
                               {"GiB", 1024.0 * 1024 * 1024},
                               {"KB", 1024.0},
                               {"MB", 1024.0 * 1024},
                               {"GB", 1024.0 * 1024 * 1024},
                               {"k", 1024.0},
                               {"K", 1024.0},
                               {"m", 1024.0 * 1024},
                               {"M", 1024.0 * 1024},
                               {"g", 1024.0 * 1024 * 1024},
                               {"G", 1024.0 * 1024 * 1024},
                               {"B", 1.0},
                               {"", 1.0}};
constexpr Unit kTimeUnits[] = {
    {"ms", 1.0}, {"s", 1000.0}, {"m", 60000.0}, {"h", 3600000.0}, {"", 1000.0}};

// Parses "<number><unit>" where unit is one of `units`; returns false on anything else.
template <std::size_t N>
bool parse_with_unit(std::string_view text, const Unit (&units)[N], double& out) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  for (const Unit& unit : units) {
    if (text.size() < unit.suffix.size() || !text.ends_with(unit.suffix)) continue;
    std::string_view number = text.substr(0, text.size() - unit.suffix.size());
    while (!number.empty() && number.back() == ' ') number.remove_suffix(1);
    if (number.empty()) continue;
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value))
      continue;
    out = value * unit.factor;
    return true;
  }
  return false;
}

}  // namespace

std::optional<double> parse_duration_ms(std::string_view text) {
  double parsed = 0;
  if (!parse_with_unit(text, kTimeUnits, parsed)) return std::nullopt;
  return parsed;
}

std::string resolve_config_path(const Section& section, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  std::filesystem::path config(section.file());
  if (!std::filesystem::is_regular_file(config)) return path;  // embedded or command line
  return (config.parent_path() / path).lexically_normal().string();
}

void config_fail(std::string_view file, const YAML::Node& node, std::string_view key,
                 std::string_view what) {
  YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
  if (mark.is_null()) throw ConfigError(fmt::format("command line: {}: {}", key, what));
  throw ConfigError(
      fmt::format("{}:{}:{}: {}: {}", file, mark.line + 1, mark.column + 1, key, what));
}

Section::Section(std::string file, YAML::Node node, std::string path)
    : file_(std::move(file)), node_(std::move(node)), path_(std::move(path)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    config_fail(file_, node_, path_.empty() ? "(top level)" : path_, "must be a map of key: value");
  }
}

std::string Section::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

void Section::fail(std::string_view key, std::string_view what) const {
  // Point at the value; at the key itself when the value is empty (yaml-cpp places an empty
  // value at the next token, which would blame the wrong line).
  YAML::Node at = node_;
  if (node_.IsMap()) {
    for (const auto& entry : node_) {
      if (entry.first.Scalar() != key) continue;
      // reset(), not operator=: assigning a YAML::Node overwrites the node it refers to.
      at.reset(entry.second.IsNull() ? entry.first : entry.second);
    }
  }
  config_fail(file_, at, key_path(key), what);
}

YAML::Node Section::raw(std::string_view key) {
  known_.emplace(key);
  if (!node_.IsMap()) return YAML::Node();
  // Through a const reference: yaml-cpp's non-const operator[] records a missing key as a
  // pending entry, and iterating the map afterwards reads freed memory (seen under ASan).
  // A missing key yields an invalid node, which throws when assigned to; hand out a valid,
  // undefined one instead (still false in a boolean test).
  const YAML::Node& map = node_;
  YAML::Node found = map[std::string(key)];
  return found ? found : YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node Section::scalar(std::string_view key) {
  YAML::Node value = raw(key);
  if (value && value.IsNull()) fail(key, "needs a value");
  if (value && !value.IsScalar()) fail(key, "must be a single value, not a list or map");
  return value;
}

std::int64_t Section::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                              std::int64_t max) {
  YAML::Node value = scalar(key);
  if (!value) return fallback;
  const std::string& text = value.Scalar();
  std::int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail(key, fmt::format("expected a whole number, got '{}'", text));
  }
  if (parsed < min || parsed > max) {
    fail(key, fmt::format("must be between {} and {}, got {}", min, max, parsed));
  }
  return parsed;
}

std::int64_t Section::bytes(std::string_view key, std::int64_t fallback, std::int64_t min,
                            std::int64_t max) {
  YAML::Node value = scalar(key);
  if (!value) return fallback;
  double parsed = 0;
  if (!parse_with_unit(value.Scalar(), kByteUnits, parsed) || parsed < 0) {
    fail(key,
         fmt::format("expected a size such as 65536, 64KiB or 1MiB, got '{}'", value.Scalar()));
  }
  auto result = static_cast<std::int64_t>(std::llround(std::min(parsed, 9.0e18)));
  if (result < min || result > max) {
    fail(key, fmt::format("must be between {} and {} bytes, got {}", min, max, result));
  }
  return result;
}

std::chrono::milliseconds Section::duration(std::string_view key,
                                            std::chrono::milliseconds fallback,
                                            std::chrono::milliseconds min,
                                            std::chrono::milliseconds max) {
  YAML::Node value = scalar(key);
  if (!value) return fallback;
  const std::optional<double> parsed = parse_duration_ms(value.Scalar());
  if (!parsed || *parsed < 0) {
    fail(key,
         fmt::format("expected a duration such as 30, 30s, 500ms or 2m, got '{}'", value.Scalar()));
  }
  std::chrono::milliseconds result(
      static_cast<std::int64_t>(std::llround(std::min(*parsed, 9.0e15))));
  if (result < min || result > max) {
    fail(key, fmt::format("must be between {}ms and {}ms, got {}ms", min.count(), max.count(),
                          result.count()));
  }
  return result;
}

std::string Section::string(std::string_view key, std::string_view fallback) {
  YAML::Node value = scalar(key);
  if (!value) return std::string(fallback);
  return value.Scalar();
}

bool Section::boolean(std::string_view key, bool fallback) {
  YAML::Node value = scalar(key);
  if (!value) return fallback;
  const std::string& text = value.Scalar();
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  fail(key, fmt::format("expected true or false, got '{}'", text));
}

Section Section::child(std::string_view key) {
  YAML::Node value = raw(key);
  return Section(file_, value ? value : YAML::Node(YAML::NodeType::Map), key_path(key));
}

void Section::finish() const {
  if (!node_.IsMap()) return;
  for (const auto& entry : node_) {
    const std::string& name = entry.first.Scalar();
    if (known_.contains(name)) continue;
    std::string known;
    for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
    config_fail(file_, entry.first, key_path(name),
                fmt::format("unknown key; known keys here: {}", known));
  }
}

}  // namespace srv
