#include "server/access_log.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "server/log.h"

namespace srv {
namespace {

// A request line longer than this is cut (and marked): lines stay a sane size whatever the
// protocol lets through.
constexpr std::size_t kMaxRequestText = 2048;

std::string_view or_dash(std::string_view text) {
  return text.empty() ? "-" : text;
}

// What the handler said, else the error kind it reported ("err"), else "-".
std::string_view status_of(const AccessEntry& entry) {
  if (!entry.summary.status.empty()) return entry.summary.status;
  return entry.error ? request_error_name(*entry.error) : "-";
}

}  // namespace

AccessLog::AccessLog(std::shared_ptr<LogFile> file, LogFormat format, std::string protocol)
    : file_(std::move(file)), format_(format), protocol_(std::move(protocol)) {}

void AccessLog::write(const AccessEntry& entry) const {
  const RequestSummary& summary = entry.summary;
  std::string_view request = summary.request.substr(0, kMaxRequestText);
  std::string_view cut = summary.request.size() > kMaxRequestText ? "..." : "";
  double seconds = std::chrono::duration<double>(entry.took).count();
  LogLine line;
  auto out = std::back_inserter(line);
  if (format_ == LogFormat::kJson) {
    append_raw(line, "{\"time\":\"");
    append_utc_time(line, entry.at);
    append_raw(line, "\",\"peer\":");
    append_json_string(line, entry.peer);
    append_raw(line, ",\"local\":");
    append_json_string(line, entry.local);
    append_raw(line, ",\"protocol\":");
    append_json_string(line, protocol_);
    append_raw(line, ",\"request\":");
    append_json_string(line, cut.empty() ? request : std::string(request) + std::string(cut));
    append_raw(line, ",\"status\":");
    append_json_string(line, status_of(entry));
    if (entry.error) {
      fmt::format_to(out, ",\"error\":\"{}\"", request_error_name(*entry.error));
    } else {
      append_raw(line, ",\"error\":null");
    }
    fmt::format_to(out,
                   ",\"bytes_in\":{},\"bytes_out\":{},\"duration_s\":{:.6f},\"pid\":{},"
                   "\"generation\":{}}}\n",
                   summary.bytes_in, summary.bytes_out, seconds, ::getpid(), log_generation());
  } else {
    fmt::format_to(out, "{} {} [", entry.peer, entry.local);
    append_local_time(line, entry.at);
    fmt::format_to(out, "] {} \"", protocol_);
    append_escaped(line, or_dash(request));
    fmt::format_to(out, "{}\" {} {} {} {:.6f}\n", cut, status_of(entry), summary.bytes_in,
                   summary.bytes_out, seconds);
  }
  file_->write_line({line.data(), line.size()});
}

}  // namespace srv
