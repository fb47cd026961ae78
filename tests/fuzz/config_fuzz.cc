// Fuzzes srv's configuration loader (YAML text through load_config_text, the path `srv --config`
// takes after reading the file). For every input it either returns a Config or throws
// ConfigError whose message starts `fuzz.yaml:LINE:COL: ` with LINE and COL counted from 1; never
// another exception, never a crash or sanitizer report, never a hang (libFuzzer's -timeout).
//
// Inputs naming a plugin (".so") or holding a path ('/', or '\\' which a YAML escape could turn
// into one), even in a comment, are skipped: the loader would dlopen the plugin, and a TLS file
// name could be /dev/zero or a FIFO. The loader's code for both is still reached through
// relative names, which resolve to nothing in the working directory. (So the seeds carry no
// comments.)

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find_first_of("/\\") != std::string::npos || text.find(".so") != std::string::npos)
    return 0;
  try {
    srv::load_config_text(text, std::string(kSource), srv::Overrides{});
  } catch (const srv::ConfigError& e) {
    if (!located(e.what())) fail("a ConfigError without fuzz.yaml:LINE:COL: ", e.what());
  } catch (const std::exception& e) {
    fail("an exception other than ConfigError", e.what());
  } catch (...) {
    fail("a non-standard exception", "");
  }
  return 0;
}
