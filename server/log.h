#pragma once

// The server log: spdlog, with one sink of srv's own that writes each line with one write(2) to
// stderr or to `log.file`, as text or JSON, with the pid and the generation.

#include <memory>
#include <string>

#include "server/log_file.h"
#include "server/log_format.h"

namespace srv {

/// `log: {level, format, file}` of the config.
struct LogSettings {
  std::string level = "info";  ///< debug, info, warn or error
  LogFormat format = LogFormat::kText;
  /// Where lines go; nullptr: stderr. Opened when the config is loaded.
  std::shared_ptr<LogFile> file;
};

/// Makes the default spdlog logger write as `settings` say. Text lines read
/// `TIME [LEVEL] [generation N] [pid P] message` (`[master]` in the master); JSON lines are
/// {"time", "level", "pid", "generation" (0: the master), "msg"}. Call again (a reload) to
/// change level, format or file: processes forked afterwards use the new logger. Main thread,
/// before other threads exist.
void setup_logging(const LogSettings& settings);

/// The generation this process serves, in every line it logs from now on (and in the lines of
/// the processes it forks); 0, the default, is the master. Main thread, before other threads.
void set_log_generation(int number);
int log_generation();

}  // namespace srv
