#pragma once

// A listener's access log (`listeners[].access_log: PATH`): one line per request answered,
// written by the connection's meter when the handler reports the request (request_meter.h), so
// plugins get it as the built-in protocols do. Each line is one write(2) to a file opened
// O_APPEND as it happens: no queue, nothing held in memory, whole lines however many processes
// write.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/log_file.h"
#include "server/log_format.h"
#include "server/request_meter.h"

namespace srv {

/// One request as the access log shows it.
struct AccessEntry {
  std::string_view peer;   ///< "HOST:PORT" of the client
  std::string_view local;  ///< "HOST:PORT" it connected to
  const RequestSummary& summary;
  std::optional<RequestError> error;  ///< how it failed, if it did
  std::chrono::nanoseconds took;
  std::chrono::system_clock::time_point at;  ///< when it was answered
};

/// Text lines, nginx-like:
///   PEER LOCAL [TIME] PROTOCOL "REQUEST" STATUS BYTES_IN BYTES_OUT SECONDS
///   127.0.0.1:50312 127.0.0.1:8080 [2024-05-01T12:00:00.123] http "GET /" 200 78 152 0.000213
/// JSON lines: {"time", "peer", "local", "protocol", "request", "status", "error" (the
/// srv_request_errors_total kind, or null), "bytes_in", "bytes_out", "duration_s", "pid",
/// "generation"}. Shared by every thread and forked process of a generation.
class AccessLog {
 public:
  AccessLog(std::shared_ptr<LogFile> file, LogFormat format, std::string protocol);

  /// Writes the line of one request. Any thread.
  void write(const AccessEntry& entry) const;
  const std::string& path() const { return file_->path(); }

 private:
  std::shared_ptr<LogFile> file_;
  LogFormat format_;
  std::string protocol_;
};

}  // namespace srv
