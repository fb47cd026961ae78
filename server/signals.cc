#include "server/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "server/drain_notice.h"
#include "server/log_file.h"

namespace srv {
namespace {

int g_pipe[2] = {-1, -1};

extern "C" void on_signal(int signo) {
  int saved = errno;  // the interrupted code may be inspecting errno
  // At once, not when the pipe is next read: a prefork worker reads it only between sessions,
  // and its session's handler should already end keep-alive at the next request.
  if (signo == SIGTERM || signo == SIGINT) mark_process_draining();
  if (signo == SIGUSR1) request_log_reopen();
  unsigned char byte = static_cast<unsigned char>(signo);
  // A full pipe already guarantees a wake-up, so a failed write loses nothing that matters.
  [[maybe_unused]] auto n = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

extern "C" void on_drain_signal(int) {
  mark_process_draining();
}

void set_handler(int signo, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(signo, &action, nullptr);
}

void close_pipe() {
  for (int& fd : g_pipe) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

}  // namespace

void install_signal_pipe() {
  close_pipe();
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  set_handler(SIGPIPE, SIG_IGN);
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGUSR2, SIGCHLD, SIGUSR1}) {
    set_handler(signo, on_signal);
  }
}

int signal_pipe_fd() {
  return g_pipe[0];
}

SignalSet take_signals() {
  SignalSet set;
  unsigned char bytes[64];
  for (;;) {
    ssize_t n = ::read(g_pipe[0], bytes, sizeof bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      switch (bytes[i]) {
        case SIGTERM:
        case SIGINT:
          set.terminate = true;
          break;
        case SIGHUP:
          set.reload = true;
          break;
        case SIGCHLD:
          set.child = true;
          break;
        case SIGUSR2:
          set.upgrade = true;
          break;
        case SIGUSR1:
          set.reopen_logs = true;
          break;
        default:
          break;
      }
    }
  }
  return set;
}

void ignore_terminal_interrupt() {
  set_handler(SIGINT, SIG_IGN);
}

void notice_drain_by_sigterm() {
  set_handler(SIGTERM, on_drain_signal);
}

void detach_signals_in_child() {
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) set_handler(signo, SIG_IGN);
  set_handler(SIGCHLD, SIG_DFL);
  close_pipe();
}

}  // namespace srv
