#pragma once

// Reading YAML maps into typed settings with errors that point at `file:line:col`.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace srv {

class Section;

/// A configuration mistake. what() is the full message: `file:line:col: key: what is wrong`, or
/// `command line: key: ...` for values that came from flags.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Formats and throws a ConfigError located at `node` (falls back to `fallback` when the node
/// has no position, e.g. it was set from the command line).
[[noreturn]] void config_fail(std::string_view file, const YAML::Node& node, std::string_view key,
                              std::string_view what);

/// A duration as config files and command lines write it: a plain number of seconds, or with
/// a unit (ms, s, m, h): "500ms", "30s", "2m". Milliseconds, or nullopt if it is not one.
std::optional<double> parse_duration_ms(std::string_view text);

/// A file named in the config, taken from the config file's folder when relative (as nginx takes
/// it from its prefix), so that a config and its files move together. `section` says which file.
std::string resolve_config_path(const Section& section, const std::string& path);

/// A YAML map being read into settings. Records which keys were read so that finish() can
/// report typos ("unknown key 'wokers'; known keys: workers, ..."). Cheap to copy; not
/// thread-safe. `path` is the dotted key prefix used in messages (e.g. "prefork").
class Section {
 public:
  Section(std::string file, YAML::Node node, std::string path);
  Section(const Section&) = default;
  /// Deleted: YAML::Node's assignment overwrites the node it refers to (inside the document)
  /// instead of rebinding, so assigning Sections would corrupt the tree.
  Section& operator=(const Section&) = delete;

  /// An integer in [min, max]; `fallback` when the key is absent.
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
  /// A byte size: plain integer or with a unit (k, KiB, M, MiB, G, GiB; powers of 1024).
  std::int64_t bytes(std::string_view key, std::int64_t fallback, std::int64_t min,
                     std::int64_t max);
  /// A duration: plain number of seconds, or with a unit (ms, s, m, h): "500ms", "30s".
  std::chrono::milliseconds duration(std::string_view key, std::chrono::milliseconds fallback,
                                     std::chrono::milliseconds min, std::chrono::milliseconds max);
  std::string string(std::string_view key, std::string_view fallback);
  bool boolean(std::string_view key, bool fallback);
  /// The raw node under `key` (null node when absent); marks the key as known.
  YAML::Node raw(std::string_view key);
  /// A nested map (an empty one when absent). Its keys are checked by its own finish().
  Section child(std::string_view key);

  /// Throws if the map holds a key that nothing read. Call once all keys were read.
  void finish() const;

  [[noreturn]] void fail(std::string_view key, std::string_view what) const;
  const std::string& file() const { return file_; }
  const YAML::Node& node() const { return node_; }
  std::string key_path(std::string_view key) const;

 private:
  YAML::Node scalar(std::string_view key);

  std::string file_;
  YAML::Node node_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace srv
