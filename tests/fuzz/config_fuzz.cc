// Fuzzes srv's configuration loader (YAML text through load_config_text, the path `srv --config`
// takes after reading the file). For every input it either returns a Config or throws
// ConfigError whose message starts `fuzz.yaml:LINE:COL: ` with LINE and COL counted from 1; never
// another exception, never a crash or sanitizer report, never a hang (libFuzzer's -timeout).
// Each input loads twice: alone, and under valid command-line overrides (--strategy, --listen,
// --workers, --threads, --max-connections, chosen by the input's length), which rewrite the
// tree before validation; then a ConfigError may also start `command line: ` (a flag's value
// that the file's other settings refuse, e.g. --max-connections 5000 under select).
//
// Inputs naming a plugin (".so") or holding a path ('/' not followed by a digit as in an address
// range, or '\\' which a YAML escape could turn into one), even in a comment, are skipped: the
// loader would dlopen the plugin, and a TLS file name could be /dev/zero or a FIFO. The loader's
// code for both is still reached through relative names, which resolve to nothing in the working
// directory. (So the seeds carry no comments.)

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/section.h"

namespace {

constexpr std::string_view kSource = "fuzz.yaml";

[[noreturn]] void fail(const char* what, std::string_view message) {
  std::fprintf(stderr, "config_fuzz: %s: %.*s\n", what, static_cast<int>(message.size()),
               message.data());
  std::abort();
}

// Reads a positive decimal number followed by ':' at `at`; advances `at` past the colon.
bool positive_number_then_colon(std::string_view text, std::size_t& at) {
  std::size_t start = at;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
  if (at == start || text[start] == '0' || at >= text.size() || text[at] != ':') return false;
  ++at;
  return true;
}

// `fuzz.yaml:LINE:COL: ` with LINE, COL >= 1.
bool located(std::string_view message) {
  if (!message.starts_with(kSource) || message.size() <= kSource.size() ||
      message[kSource.size()] != ':') {
    return false;
  }
  std::size_t at = kSource.size() + 1;
  return positive_number_then_colon(message, at) && positive_number_then_colon(message, at) &&
         at < message.size() && message[at] == ' ';
}

// See the top: a '/' not followed by a digit (an address range such as 127.0.0.0/8 is fine), a
// backslash, or ".so".
bool names_a_file(std::string_view text) {
  if (text.find('\\') != std::string_view::npos || text.find(".so") != std::string_view::npos)
    return true;
  for (std::size_t at = text.find('/'); at != std::string_view::npos; at = text.find('/', at + 1)) {
    if (at + 1 == text.size() || !std::isdigit(static_cast<unsigned char>(text[at + 1])))
      return true;
  }
  return false;
}

// Valid flags, picked by `seed`; each is still checked against the rest of the file.
srv::Overrides overrides_for(std::size_t seed) {
  static const char* const kStrategies[] = {"epoll", "prefork", "threadpool", "select"};
  srv::Overrides o;
  o.strategy = kStrategies[seed % 4];
  if (seed & 4) o.listen = "127.0.0.1:7001";
  if (seed & 8) o.workers = 2;
  if (seed & 16) o.threads = 2;
  if (seed & 32) o.max_connections = 5000;
  return o;
}

void check_load(const std::string& text, const srv::Overrides& overrides, bool flags) {
  try {
    srv::load_config_text(text, std::string(kSource), overrides);
  } catch (const srv::ConfigError& e) {
    std::string_view what = e.what();
    if (!located(what) && !(flags && what.starts_with("command line: "))) {
      fail("a ConfigError without fuzz.yaml:LINE:COL: ", what);
    }
  } catch (const std::exception& e) {
    fail("an exception other than ConfigError", e.what());
  } catch (...) {
    fail("a non-standard exception", "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (names_a_file(text)) return 0;
  check_load(text, srv::Overrides{}, false);
  check_load(text, overrides_for(size), true);
  return 0;
}
