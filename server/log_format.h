#pragma once

// The pieces of a log line shared by the server log (log.cc) and the access log (access_log.cc):
// times and the escaping that keeps one event on one line, in text or JSON.

#include <chrono>
#include <string_view>

#include <fmt/format.h>

namespace srv {

/// How log lines look: `log.format` in the config.
enum class LogFormat {
  kText,  ///< one human-readable line per event
  kJson,  ///< one JSON object per line (jq, log shippers)
};

/// Where a line is built before its one write(2).
using LogLine = fmt::memory_buffer;

/// `text` as it is.
void append_raw(LogLine& out, std::string_view text);
/// "2024-05-01T12:00:00.123", local time (text lines). Any thread.
void append_local_time(LogLine& out, std::chrono::system_clock::time_point at);
/// "2024-05-01T10:00:00.123Z", UTC (JSON lines). Any thread.
void append_utc_time(LogLine& out, std::chrono::system_clock::time_point at);
/// `text` as a JSON string, quotes included; bytes that are not UTF-8 become U+FFFD, so that
/// whatever a client sent cannot make the line invalid JSON.
void append_json_string(LogLine& out, std::string_view text);
/// `text` for a text line, as nginx writes a request line: '"', '\\' and every byte outside
/// printable ASCII as \xHH, so that a client cannot split or forge a line.
void append_escaped(LogLine& out, std::string_view text);

}  // namespace srv
