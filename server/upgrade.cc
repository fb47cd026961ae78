#include "server/upgrade.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "strategies/process_util.h"

namespace srv {
namespace {

/// "FD=KEY;FD=KEY": keys are socket addresses ("127.0.0.1:80", "[::1]:0 #0", "admin ..."),
/// which hold neither ';' nor '='.
constexpr const char* kSocketsVariable = "SRV_INHERITED_SOCKETS";
constexpr const char* kOldMasterVariable = "SRV_OLD_MASTER";

std::string g_program;  // what to exec: a path, or a name to look up in PATH
std::vector<std::string> g_arguments;

std::map<std::string, int> parse_sockets(std::string_view text) {
  std::map<std::string, int> sockets;
  while (!text.empty()) {
    std::string_view entry = text.substr(0, text.find(';'));
    text.remove_prefix(std::min(text.size(), entry.size() + 1));
    std::size_t equals = entry.find('=');
    int fd = -1;
    if (equals != std::string_view::npos) {
      std::string number(entry.substr(0, equals));
      char* end = nullptr;
      long value = std::strtol(number.c_str(), &end, 10);
      if (!number.empty() && *end == '\0' && value > 2 && value < (1 << 20)) {
        fd = static_cast<int>(value);
      }
    }
    if (fd < 0 || equals + 1 >= entry.size()) {
      spdlog::warn("{}: ignoring malformed entry '{}'", kSocketsVariable, entry);
      continue;
    }
    sockets.emplace(std::string(entry.substr(equals + 1)), fd);
  }
  return sockets;
}

/// In the forked child: never returns.
[[noreturn]] void exec_new_binary(const std::string& sockets_value, pid_t old_master,
                                  const std::map<std::string, int>& sockets) {
  for (const auto& [key, fd] : sockets) ::fcntl(fd, F_SETFD, 0);  // inherited across exec
  ::setenv(kSocketsVariable, sockets_value.c_str(), 1);
  ::setenv(kOldMasterVariable, std::to_string(old_master).c_str(), 1);
  // The master's handlers write to its self-pipe, which this child shares until exec: a signal
  // in between must not look like one sent to the master.
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2})
    std::signal(signo, SIG_DFL);
  unblock_signals_in_child();
  std::vector<char*> argv;
  for (std::string& argument : g_arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  ::execvp(g_program.c_str(), argv.data());
  std::string message =
      fmt::format("srv: upgrade: cannot run {}: {}\n", g_program, std::strerror(errno));
  (void)!::write(STDERR_FILENO, message.data(), message.size());
  ::_exit(127);
}

}  // namespace

void remember_command_line(int argc, char** argv) {
  g_arguments.assign(argv, argv + argc);
  g_program = argc > 0 ? argv[0] : "srv";
  // A relative path names a file from today's directory; a bare name is looked up in PATH at
  // upgrade time. Symbolic links are kept as links: repointing one upgrades to its new target.
  if (g_program.find('/') != std::string::npos && g_program.front() != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) != nullptr) g_program = fmt::format("{}/{}", cwd, g_program);
  }
}

Inheritance take_inheritance() {
  Inheritance inheritance;
  if (const char* text = std::getenv(kSocketsVariable)) {
    inheritance.sockets = parse_sockets(text);
    ::unsetenv(kSocketsVariable);
  }
  if (const char* text = std::getenv(kOldMasterVariable)) {
    long pid = std::strtol(text, nullptr, 10);
    if (pid > 1 && pid == ::getppid()) inheritance.old_master = static_cast<pid_t>(pid);
    ::unsetenv(kOldMasterVariable);
  }
  return inheritance;
}

pid_t start_new_binary(const std::map<std::string, int>& sockets) {
  std::string value;
  for (const auto& [key, fd] : sockets) {
    value += fmt::format("{}{}={}", value.empty() ? "" : ";", fd, key);
  }
  pid_t old_master = ::getpid();
  pid_t pid = fork_with_signals_blocked();
  if (pid < 0) {
    spdlog::error("upgrade: cannot fork: {}", std::strerror(errno));
    return -1;
  }
  if (pid == 0) exec_new_binary(value, old_master, sockets);
  return pid;
}

}  // namespace srv
