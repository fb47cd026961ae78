#include "server/log_format.h"

#include <ctime>
#include <iterator>

namespace srv {
namespace {

using std::chrono::system_clock;

// The seconds part is formatted once per second and thread; the milliseconds every line.
template <bool kUtc>
void append_time(LogLine& out, system_clock::time_point at) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  thread_local std::size_t cached_size = 0;
  auto since = at.time_since_epoch();
  auto seconds = std::chrono::floor<std::chrono::seconds>(since);
  std::time_t second = static_cast<std::time_t>(seconds.count());
  if (second != cached_second) {
    std::tm tm{};
    if constexpr (kUtc) {
      gmtime_r(&second, &tm);
    } else {
      localtime_r(&second, &tm);
    }
    cached_size = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  out.append(cached, cached + cached_size);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds).count();
  fmt::format_to(std::back_inserter(out), ".{:03}", millis);
  if constexpr (kUtc) out.push_back('Z');
}

void append_hex_escape(LogLine& out, const char* prefix, unsigned value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  append_raw(out, prefix);
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out.push_back(kHex[(value >> shift) & 0xf]);
}

// The length of the well-formed UTF-8 sequence at the front of `text` (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0 if there is none.
std::size_t utf8_length(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  std::size_t size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  if (lead < 0xc2 || lead > 0xf4 || text.size() < size) return 0;
  unsigned char low = 0x80, high = 0xbf;  // the second byte's range
  if (lead == 0xe0) low = 0xa0;
  if (lead == 0xed) high = 0x9f;
  if (lead == 0xf0) low = 0x90;
  if (lead == 0xf4) high = 0x8f;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < size; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return size;
}

}  // namespace

void append_raw(LogLine& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

void append_local_time(LogLine& out, system_clock::time_point at) {
  append_time<false>(out, at);
}

void append_utc_time(LogLine& out, system_clock::time_point at) {
  append_time<true>(out, at);
}

void append_json_string(LogLine& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t size = utf8_length(text.substr(i));
      if (size == 0) {
        append_raw(out, "\\ufffd");
        ++i;
      } else {
        append_raw(out, text.substr(i, size));
        i += size;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      append_hex_escape(out, "\\u", c, 4);
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  out.push_back('"');
}

void append_escaped(LogLine& out, std::string_view text) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      append_hex_escape(out, "\\x", c, 2);
    } else {
      out.push_back(ch);
    }
  }
}

}  // namespace srv
