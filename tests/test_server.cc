#include "tests/test_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/test_tls.h"

namespace srv::test {
namespace {

using namespace std::chrono_literals;

#ifndef SRV_BINARY
#error "SRV_BINARY must name the srv binary under test"
#endif

std::string errno_text(int err) {
  return fmt::format("{} ({})", std::strerror(err), err);
}

// The port in a "listening on HOST:PORT" line (what the regex `listening on (\S+):(\d+)` would
// capture), or 0. Hand-written: std::regex draws -Wmaybe-uninitialized from GCC 12 under ASan.
std::uint16_t listening_port(std::string_view line) {
  constexpr std::string_view kMarker = "listening on ";
  std::size_t at = line.find(kMarker);
  if (at == std::string_view::npos) return 0;
  std::string_view address = line.substr(at + kMarker.size());
  address = address.substr(0, std::min(address.find_first_of(" \t"), address.size()));
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return 0;
  std::string_view digits = address.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  int port = std::stoi(std::string(digits));
  return port <= 65535 ? static_cast<std::uint16_t>(port) : 0;
}

std::string make_temp_config(const std::string& text) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = fmt::format("{}/srv-conformance-XXXXXX.yaml", dir && *dir ? dir : "/tmp");
  int fd = ::mkstemps(path.data(), 5);
  if (fd < 0) return {};
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return path;
}

}  // namespace

// ---- TestServer -----------------------------------------------------------------------------

TestServer::TestServer(ServerOptions options) : options_(std::move(options)) {
  argv_ = {SRV_BINARY,        "--strategy", options_.strategy, "--protocol",
           options_.protocol, "--listen",   "127.0.0.1:0"};
  if (options_.max_connections) {
    argv_.insert(argv_.end(), {"--max-connections", std::to_string(*options_.max_connections)});
  }
  if (options_.workers) argv_.insert(argv_.end(), {"--workers", std::to_string(*options_.workers)});
  if (options_.threads) argv_.insert(argv_.end(), {"--threads", std::to_string(*options_.threads)});
  if (options_.wire == Wire::kTls) {
    const TestCertificate& certificate = test_certificate();
    setup_error_ = certificate.error;
    // `--listen` keeps this listener's tls settings; `--protocol` replaces its protocol.
    options_.config_yaml += fmt::format(
        "listeners:\n  - listen: 127.0.0.1:0\n    protocol: echo\n    tls:\n"
        "      cert: {}\n      key: {}\n",
        certificate.cert_path, certificate.key_path);
    if (!options_.tls_handshake_timeout.empty()) {
      options_.config_yaml += "      handshake_timeout: " + options_.tls_handshake_timeout + "\n";
    }
  }
  if (!options_.config_yaml.empty()) {
    config_path_ = make_temp_config(options_.config_yaml);
    argv_.insert(argv_.end(), {"--config", config_path_});
  }
  argv_.insert(argv_.end(), options_.extra_args.begin(), options_.extra_args.end());
}

TestServer::~TestServer() {
  std::string children;
  if (pid_ > 0 && !status_ && ::testing::Test::HasFailure()) {
    for (const ProcInfo& child : child_processes(pid_)) {
      children += fmt::format(" {}({})", child.pid, child.state);
    }
  }
  if (pid_ > 0) {
    // The whole group: the server and whatever it forked, even children it orphaned.
    ::kill(-pid_, SIGKILL);
    if (!status_) {
      ::kill(pid_, SIGKILL);
      try_reap(0);
    }
  }
  if (reader_.joinable()) {
    {
      // Leftover descendants are dead too, so the pipe reaches EOF; this keeps the last lines.
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, 2s, [this] { return output_closed_; });
    }
    stop_reader_ = true;
    reader_.join();
  }
  if (::testing::Test::HasFailure() && pid_ > 0) {
    std::cerr << "---- srv output (" << command_line() << ", pid " << pid_
              << (status_ ? ", " + describe_wait_status(*status_) : std::string())
              << (children.empty() ? std::string() : ", children at the end:" + children)
              << ") ----\n"
              << log_text() << "---- end of srv output ----\n";
  }
  if (!config_path_.empty()) ::unlink(config_path_.c_str());
}

std::string TestServer::command_line() const {
  std::string line;
  for (const std::string& arg : argv_) {
    if (!line.empty()) line += ' ';
    line += arg;
  }
  return line;
}

std::string TestServer::start(milliseconds timeout) {
  if (pid_ > 0) return "start() called twice";
  if (!setup_error_.empty()) return "cannot make the TLS test certificate: " + setup_error_;
  if (!options_.config_yaml.empty() && config_path_.empty()) {
    return "cannot write the temporary config file: " + errno_text(errno);
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return "pipe2: " + errno_text(errno);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> argv;
  for (std::string& arg : argv_) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  const int max_open_files = options_.max_open_files.value_or(-1);

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(out[0]);
    ::close(out[1]);
    if (devnull >= 0) ::close(devnull);
    return "fork: " + errno_text(err);
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: the test process has threads.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    if (max_open_files >= 0) {
      rlimit limit{static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    ::signal(SIGPIPE, SIG_DFL);  // the test process may ignore it (test_tls.cc); srv decides
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    static const char kMessage[] = "test harness: execv of the srv binary failed\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    ::_exit(127);
  }
  pid_ = pid;
  ::setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
  ::close(out[1]);
  if (devnull >= 0) ::close(devnull);
  output_fd_.reset(out[0]);
  reader_ = std::thread([this] { read_output(); });

  auto deadline = Clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (port_ == 0) {
    if (output_closed_) break;
    if (changed_.wait_until(lock, std::min(deadline, Clock::now() + 50ms)) ==
            std::cv_status::timeout &&
        Clock::now() >= deadline) {
      break;
    }
    lock.unlock();
    bool exited = !running();
    lock.lock();
    if (exited) break;
  }
  if (port_ != 0) return "";
  lock.unlock();
  // Give the reader a moment to collect the last words of a server that died.
  wait_for_log("\x01never\x01", 200ms);
  std::string why = status_ ? "srv " + describe_wait_status(*status_) + " before listening"
                            : fmt::format("no 'listening on' line within {} ms", timeout.count());
  return fmt::format("{}\ncommand: {}\noutput:\n{}", why, command_line(), log_text());
}

void TestServer::read_output() {
  std::string partial;
  char buffer[4096];
  while (!stop_reader_) {
    pollfd p{output_fd_.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    if (ready == 0) continue;
    ssize_t n = ::read(output_fd_.get(), buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    partial.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = partial.find('\n')) != std::string::npos) {
      consume_line(partial.substr(0, newline));
      partial.erase(0, newline + 1);
    }
  }
  if (!partial.empty()) consume_line(std::move(partial));
  std::lock_guard lock(mutex_);
  output_closed_ = true;
  changed_.notify_all();
}

void TestServer::consume_line(std::string line) {
  std::lock_guard lock(mutex_);
  if (port_ == 0) port_ = listening_port(line);
  lines_.push_back(std::move(line));
  changed_.notify_all();
}

void TestServer::terminate() const {
  send_signal(SIGTERM);
}

void TestServer::send_signal(int signo) const {
  if (pid_ > 0 && !status_) ::kill(pid_, signo);
}

bool TestServer::try_reap(int options) {
  if (status_) return true;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, options);
  } while (got < 0 && errno == EINTR);
  if (got == pid_) {
    status_ = status;
    return true;
  }
  return false;
}

bool TestServer::running() {
  return pid_ > 0 && !try_reap(WNOHANG);
}

std::optional<int> TestServer::wait_exit(milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  poll_until([this] { return try_reap(WNOHANG); }, timeout, 5ms);
  return status_;
}

std::vector<std::string> TestServer::log_lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

pid_t TestServer::generation_pid(milliseconds timeout) {
  static constexpr std::string_view kMark = " started: strategy ";
  if (!wait_for_log(kMark, timeout)) return -1;
  pid_t pid = -1;
  for (const std::string& line : log_lines()) {
    std::size_t at = line.find(kMark);
    std::size_t pid_at = at == std::string::npos ? at : line.find(", pid ", at);
    if (pid_at != std::string::npos) pid = static_cast<pid_t>(std::stol(line.substr(pid_at + 6)));
  }
  return pid;
}

std::string TestServer::log_text() const {
  std::string text;
  for (const std::string& line : log_lines()) text += "  | " + line + "\n";
  return text;
}

bool TestServer::wait_for_log(std::string_view needle, milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return std::any_of(lines_.begin(), lines_.end(), [&](const std::string& line) {
      return line.find(needle) != std::string::npos;
    });
  });
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  }
  return fmt::format("wait status {:#x}", status);
}

// ---- /proc ----------------------------------------------------------------------------------

std::optional<ProcInfo> read_proc(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!in || !std::getline(in, text)) return std::nullopt;
  // The command name is in parentheses and may itself contain spaces and parentheses.
  std::size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  ProcInfo info;
  info.pid = pid;
  fields >> info.state >> info.ppid >> info.pgrp;
  // Field 22 (starttime); state, ppid and pgrp were fields 3 to 5.
  std::string skip;
  for (int field = 6; field < 22 && fields; ++field) fields >> skip;
  fields >> info.start_time;
  if (!fields) return std::nullopt;
  return info;
}

namespace {

std::vector<ProcInfo> all_processes() {
  std::vector<ProcInfo> processes;
  DIR* dir = ::opendir("/proc");
  if (!dir) return processes;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (auto info = read_proc(static_cast<pid_t>(pid))) processes.push_back(*info);
  }
  ::closedir(dir);
  return processes;
}

}  // namespace

pid_t process_serving(int client_fd, const std::vector<pid_t>& candidates) {
  sockaddr_in client{}, server{};
  socklen_t len = sizeof client;
  getsockname(client_fd, reinterpret_cast<sockaddr*>(&client), &len);
  len = sizeof server;
  getpeername(client_fd, reinterpret_cast<sockaddr*>(&server), &len);
  // The server end: local port = the server's, remote port = the client's. Its inode names the
  // socket in every /proc/PID/fd that holds it.
  const auto port_of = [](const std::string& address) {
    return static_cast<std::uint16_t>(
        std::stoul(address.substr(address.find(':') + 1), nullptr, 16));
  };
  std::string inode;
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, node;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> node;
    if (port_of(local) == ntohs(server.sin_port) && port_of(remote) == ntohs(client.sin_port)) {
      inode = node;
      break;
    }
  }
  if (inode.empty() || inode == "0") return 0;
  const std::string wanted = "socket:[" + inode + "]";
  for (pid_t pid : candidates) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* fds = opendir(dir.c_str());
    if (!fds) continue;
    bool found = false;
    while (dirent* entry = readdir(fds)) {
      char target[64] = {};
      const std::string link = dir + "/" + entry->d_name;
      if (readlink(link.c_str(), target, sizeof target - 1) > 0 && wanted == target) found = true;
    }
    closedir(fds);
    if (found) return pid;
  }
  return 0;
}

std::vector<ProcInfo> child_processes(pid_t parent) {
  std::vector<ProcInfo> children;
  for (const ProcInfo& process : all_processes()) {
    if (process.ppid == parent) children.push_back(process);
  }
  return children;
}

std::vector<ProcInfo> live_group_members(pid_t pgid) {
  std::vector<ProcInfo> members;
  for (const ProcInfo& process : all_processes()) {
    if (process.pgrp == pgid && process.state != 'Z' && process.state != 'X') {
      members.push_back(process);
    }
  }
  return members;
}

int count_zombie_children(pid_t parent) {
  auto children = child_processes(parent);
  return static_cast<int>(std::count_if(children.begin(), children.end(),
                                        [](const ProcInfo& p) { return p.state == 'Z'; }));
}

int count_live_children(pid_t parent) {
  auto children = child_processes(parent);
  return static_cast<int>(std::count_if(children.begin(), children.end(), [](const ProcInfo& p) {
    return p.state != 'Z' && p.state != 'X';
  }));
}

int count_threads(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

bool still_alive(const ProcInfo& process) {
  auto now = read_proc(process.pid);
  return now && now->start_time == process.start_time && now->state != 'Z' && now->state != 'X';
}

// ---- Misc -----------------------------------------------------------------------------------

bool poll_until(const std::function<bool()>& done, milliseconds timeout, milliseconds interval) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::min<Clock::duration>(interval, deadline - Clock::now()));
  }
}

std::string first_difference(std::string_view expected, std::string_view actual) {
  if (expected == actual) return "";
  std::size_t common = std::min(expected.size(), actual.size());
  std::size_t at = static_cast<std::size_t>(
      std::mismatch(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(common),
                    actual.begin())
          .first -
      expected.begin());
  if (at == common) {
    return fmt::format("expected {} bytes, got {} (equal up to the shorter length)",
                       expected.size(), actual.size());
  }
  return fmt::format(
      "expected {} bytes, got {}; first difference at byte {}: expected {:#04x}, "
      "got {:#04x}",
      expected.size(), actual.size(), at, static_cast<unsigned char>(expected[at]),
      static_cast<unsigned char>(actual[at]));
}

}  // namespace srv::test

namespace srv::test {

std::map<pid_t, unsigned long long> cpu_ticks_by_process(pid_t pgid) {
  std::map<pid_t, unsigned long long> ticks;
  for (const ProcInfo& process : live_group_members(pgid)) {
    std::ifstream in(fmt::format("/proc/{}/stat", process.pid));
    std::string text;
    if (!in || !std::getline(in, text)) continue;
    std::size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 1));
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    std::string skip;
    for (int field = 3; field < 14 && fields; ++field) fields >> skip;
    unsigned long long utime = 0, stime = 0;
    if (fields >> utime >> stime) ticks[process.pid] = utime + stime;
  }
  return ticks;
}

unsigned long long group_cpu_ticks(pid_t pgid) {
  unsigned long long total = 0;
  for (const auto& [pid, ticks] : cpu_ticks_by_process(pgid)) total += ticks;
  return total;
}

}  // namespace srv::test
