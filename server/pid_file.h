#pragma once

#include <sys/types.h>

#include <string>

namespace srv {

/// The master's pid in a file for `srv -s`, written through a rename (so a reader never sees
/// half of it) and removed at exit if it still names this process: after a binary upgrade it
/// names the new master. A failure to write it is logged, not fatal. The master's thread only.
class PidFile {
 public:
  /// Empty `path`: no pid file. Writes nothing yet.
  explicit PidFile(std::string path) : path_(std::move(path)) {}
  /// Removes the file if this process wrote it and it still holds this pid. A generation's
  /// process (a fork of the master) removes nothing.
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

  /// Writes this process's pid.
  void write();

 private:
  bool holds_own_pid() const;

  std::string path_;
  bool written_ = false;
  pid_t owner_ = 0;
};

}  // namespace srv
