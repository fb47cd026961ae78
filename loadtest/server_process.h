// A server started by srv-loadtest compare: spawned with its output in a log file, waited for
// until its port accepts, stopped with SIGTERM (SIGKILL if it lingers) and reaped.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace srv::loadtest {

/// Runs `argv` to completion and returns its exit status with its stderr+stdout (for srv
/// --check-config and --list-strategies). Throws std::runtime_error if it cannot start.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv);

/// A port on 127.0.0.1 nobody listens on right now (bound and released).
int free_port();

class ServerProcess {
 public:
  /// Starts `argv` with stdout and stderr appended to `log`. Throws std::runtime_error.
  ServerProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
  /// Stops the server if still running.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// Waits up to `seconds` for 127.0.0.1:port to accept; false if it did not or the server died.
  bool wait_ready(int port, double seconds);
  /// SIGTERM, then SIGKILL after `grace` seconds; reaps. Returns the wait status.
  int stop(double grace = 15);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

/// The last `lines` lines of a text file (for error messages).
std::string tail_of(const std::filesystem::path& file, int lines = 5);

}  // namespace srv::loadtest
