#pragma once

// A log file written a whole line per write(2), reopened by name after SIGUSR1 (logrotate has
// renamed it), and stderr behind the same interface.

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

namespace srv {

/// One log destination: a file opened O_APPEND (so that the processes of fork and prefork,
/// which share it, interleave whole lines) or stderr. Shared by every thread and inherited by
/// every forked process of a generation; each process reopens its own descriptor.
class LogFile {
 public:
  /// Opens `path` for appending (created 0644 when absent). Throws std::system_error with the
  /// path and the reason when it cannot be opened. Main thread (config loading).
  static std::shared_ptr<LogFile> open(const std::string& path);
  /// stderr: never reopened, never closed.
  static std::shared_ptr<LogFile> standard_error();
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  /// Writes `line` (which ends in '\n') with one write(2). If a reopen was asked for since this
  /// process last wrote here, reopens the file first: lines written after a SIGUSR1 go to a file
  /// of this name. A line that cannot be written is dropped. Any thread, any process.
  void write_line(std::string_view line);
  /// "" for stderr.
  const std::string& path() const { return path_; }

 private:
  LogFile(std::string path, int fd);
  /// Opens path_ again and puts the new file under fd_ (dup2: a thread writing meanwhile writes
  /// whole lines to one file or the other). On failure says so in the old file and keeps it.
  void reopen();

  std::string path_;
  int fd_;
  std::atomic<unsigned> seen_;  // the reopen generation this process last opened at
};

/// Asks every LogFile of this process to reopen before its next line. Async-signal-safe: the
/// SIGUSR1 handler calls it.
void request_log_reopen();

}  // namespace srv
