#pragma once

// Test harness for the conformance suite: runs the real srv binary as a child process and talks
// to it over real sockets. Nothing here knows a strategy or a protocol; every helper reports a
// failure as text ("" means success) so tests can assert on it with a readable message.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/test_client.h"

namespace srv::test {

/// How to start srv. Unset values are not passed, so srv uses its defaults.
struct ServerOptions {
  std::string strategy;
  std::string protocol = "echo";
  std::optional<int> max_connections;  ///< --max-connections
  std::optional<int> workers;          ///< --workers (prefork)
  std::optional<int> threads;          ///< --threads (threadpool)
  /// YAML written to a temporary file and passed with --config; empty means no --config.
  /// Command-line flags (including --listen 127.0.0.1:0) override its keys.
  std::string config_yaml;
  /// Appended to the command line as they are.
  std::vector<std::string> extra_args;
  /// RLIMIT_NOFILE for srv (and what it forks), to drive it out of descriptors.
  std::optional<int> max_open_files;
  /// kTls: the listener serves TLS with test_certificate() (a `listeners:` entry is added to
  /// config_yaml, whose own keys must not include `listeners`).
  Wire wire = Wire::kTcp;
  /// tls.handshake_timeout ("1s"); empty leaves srv's default.
  std::string tls_handshake_timeout;
};

/// One srv process, started with fork+exec in its own process group, listening on an ephemeral
/// loopback port. Everything it writes to stdout and stderr is collected line by line by a
/// background thread; the lines are printed when the current test has failed. The destructor
/// SIGKILLs the whole process group (the server and anything it forked) and reaps the server.
class TestServer {
 public:
  explicit TestServer(ServerOptions options);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  /// Spawns srv and waits up to `timeout` for its "listening on HOST:PORT" line. Returns "" on
  /// success, else what went wrong followed by the server's output so far. Call once.
  std::string start(milliseconds timeout = milliseconds(10'000));

  /// The port of the first listener (valid after a successful start()).
  std::uint16_t port() const { return port_; }
  /// The server's process id (also its process group id).
  pid_t pid() const { return pid_; }
  /// The command line used to start srv, for messages.
  std::string command_line() const;

  /// Sends SIGTERM to the server process (not to its group).
  void terminate() const;
  /// Sends `signo` to the server process.
  void send_signal(int signo) const;
  /// True while the server has not exited (reaps it if it has).
  bool running();
  /// Waits up to `timeout` for the server to exit and reaps it. Returns its wait status (as
  /// from waitpid), or nullopt if it is still running when the time is up.
  std::optional<int> wait_exit(milliseconds timeout);

  /// A copy of every output line received so far.
  std::vector<std::string> log_lines() const;
  /// Every output line so far, each prefixed with "  | " and ending in a newline.
  std::string log_text() const;
  /// Waits up to `timeout` for an output line containing `needle`; true if one arrived.
  bool wait_for_log(std::string_view needle, milliseconds timeout);

 private:
  void read_output();
  void consume_line(std::string line);
  bool try_reap(int options);

  ServerOptions options_;
  std::vector<std::string> argv_;
  std::string config_path_;
  std::string setup_error_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::optional<int> status_;

  UniqueFd output_fd_;
  std::thread reader_;
  std::atomic<bool> stop_reader_{false};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool output_closed_ = false;
};

/// "exited with status 0", "killed by signal 9 (Killed)", ...
std::string describe_wait_status(int status);

// ---- /proc ---------------------------------------------------------------------------------

/// One process as /proc/PID/stat describes it.
struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgrp = 0;
  char state = '?';                   ///< R, S, D, Z, ...
  unsigned long long start_time = 0;  ///< clock ticks after boot; tells a reused pid apart
};

/// The process `pid`, or nullopt if it does not exist (any more).
std::optional<ProcInfo> read_proc(pid_t pid);

/// Every process whose parent is `parent` (zombies included).
std::vector<ProcInfo> child_processes(pid_t parent);

/// Which of `candidates` holds the server end of the loopback connection whose client end is
/// `client_fd` (found through /proc/net/tcp and the candidates' /proc/PID/fd); 0 if none does.
pid_t process_serving(int client_fd, const std::vector<pid_t>& candidates);

/// Every process in process group `pgid` that has not exited (zombies excluded). A TestServer's
/// group is its pid, and holds whatever it forked.
std::vector<ProcInfo> live_group_members(pid_t pgid);

/// How many children of `parent` are zombies (state Z).
int count_zombie_children(pid_t parent);

/// How many children of `parent` are not zombies.
int count_live_children(pid_t parent);

/// The Threads: value of /proc/PID/status, or -1 if the process is gone.
int count_threads(pid_t pid);

/// CPU time (user + system, in clock ticks) used so far by the live processes of group `pgid`.
unsigned long long group_cpu_ticks(pid_t pgid);

/// The same, per live process of group `pgid` (pid to ticks), to tell one process spinning
/// from many processes each doing a little (fork's children starting up).
std::map<pid_t, unsigned long long> cpu_ticks_by_process(pid_t pgid);

/// True while `process` (same pid and start time) exists and has not exited (is not a zombie).
bool still_alive(const ProcInfo& process);

// ---- Misc ----------------------------------------------------------------------------------

/// Calls `done` every `interval` until it returns true or `timeout` has passed; returns its
/// last result.
bool poll_until(const std::function<bool()>& done, milliseconds timeout,
                milliseconds interval = milliseconds(10));

/// "" if equal, else where and how `actual` first differs from `expected`.
std::string first_difference(std::string_view expected, std::string_view actual);

}  // namespace srv::test
