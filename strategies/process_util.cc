#include "strategies/process_util.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "server/metrics.h"

namespace srv {

namespace {

sigset_t g_mask_before_fork;

}  // namespace

pid_t fork_with_signals_blocked() {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, &g_mask_before_fork);
  pid_t pid = ::fork();
  if (pid != 0) ::sigprocmask(SIG_SETMASK, &g_mask_before_fork, nullptr);
  return pid;
}

void unblock_signals_in_child() {
  ::sigprocmask(SIG_SETMASK, &g_mask_before_fork, nullptr);
}

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
    forget_process(pid);
  }
}

}  // namespace srv
