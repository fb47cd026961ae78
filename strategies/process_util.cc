#include "strategies/process_util.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace srv {

void prepare_child(pid_t parent, Generation& generation, bool keep_listeners) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);  // the parent died before prctl took effect
  if (!keep_listeners) {
    for (Listener* listener : generation.listeners()) ::close(listener->fd());
  }
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  }
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

void kill_and_reap(const std::vector<pid_t>& pids, int signo) {
  for (pid_t pid : pids) ::kill(pid, signo);
  for (pid_t pid : pids) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

}  // namespace srv
