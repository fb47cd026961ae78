#include "tests/redis_reference.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/resp_test_util.h"

extern char** environ;

namespace srv::test {
namespace {

// A port nothing listens on now (the kernel's choice for port 0). Another process may take it
// before redis-server binds it; start() then sees redis-server exit and tries another.
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

RedisReference::RedisReference(std::vector<std::string> extra) {
  for (int attempt = 0; attempt < 3 && !port_; ++attempt) {
    int port = free_loopback_port();
    if (port != 0 && start(port, extra)) port_ = port;
  }
}

RedisReference::~RedisReference() {
  stop();
}

bool RedisReference::start(int port, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   "/tmp",
                                   "--logfile",
                                   ""};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return false;
  }
  using namespace std::chrono;
  auto deadline = steady_clock::now() + seconds(5);
  while (steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // not installed, or the port was taken
      pid_ = -1;
      return false;
    }
    bool closed = false;
    std::string reply = ask_server(port, "PING\r\n", closed, milliseconds(200), 1);
    if (!reply.empty() && reply != "(cannot connect)") return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  stop();
  return false;
}

void RedisReference::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace srv::test
