// fork: one child process per connection, the classic inetd/pre-1990s Unix server. The parent
// only accepts and reaps; each child serves one connection with the blocking session loop and
// exits. A crash takes down one connection, never the server; the price is a fork per connection.

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/blocking_session.h"
#include "server/metrics.h"
#include "server/signals.h"
#include "strategies/acceptor_loop.h"
#include "strategies/builtin.h"
#include "strategies/process_util.h"

namespace srv {
namespace {

class ForkStrategy final : public Strategy, private Dispatcher {
 public:
  void run(Generation& generation) override {
    generation_ = &generation;
    // Children serve on through a drain; they learn of it so that their handlers can end
    // keep-alive connections at a request boundary (see drain_notice.h).
    generation.on_drain([this] {
      for (pid_t child : children_) ::kill(child, SIGTERM);
    });
    // Each child has its own descriptors to reopen (logrotate's SIGUSR1).
    generation.on_reopen_logs([this] {
      for (pid_t child : children_) ::kill(child, SIGUSR1);
    });
    run_accept_loop(generation, *this);
    generation_ = nullptr;
  }

 private:
  void dispatch(const AcceptedSocket& socket, Listener& listener) override {
    if (children_.size() >= static_cast<std::size_t>(generation_->settings().max_connections)) {
      reap();  // a child may have exited since the last SIGCHLD was read
      if (children_.size() >= static_cast<std::size_t>(generation_->settings().max_connections)) {
        return listener.refuse(socket.fd, RefuseReason::kMaxConnections);
      }
    }
    pid_t parent = ::getpid();
    pid_t pid = fork_with_signals_blocked();
    if (pid < 0) {
      spdlog::error("fork: {}", std::strerror(errno));
      return listener.refuse(socket.fd, RefuseReason::kResources);
    }
    if (pid == 0) serve_in_child(parent, socket, listener);  // never returns
    ::close(socket.fd);
    children_.insert(pid);
  }

  [[noreturn]] void serve_in_child(pid_t parent, const AcceptedSocket& socket, Listener& listener) {
    detach_signals_in_child();
    notice_drain_by_sigterm();
    unblock_signals_in_child();
    prepare_child(parent, *generation_, /*keep_listeners=*/false);
    // The parent ends us with SIGKILL at the drain deadline.
    serve_blocking(listener, socket, generation_->settings().limits, -1);
    ::_exit(0);  // skip the parent's atexit handlers and static destructors
  }

  std::size_t live() const override { return children_.size(); }

  void reap() override {
    int status = 0;
    pid_t pid;
    // One SIGCHLD may stand for many exits: reap until nothing is left.
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      forget_process(pid);
      children_.erase(pid);
      if (WIFSIGNALED(status)) {
        spdlog::warn("connection child {} {}", pid, describe_exit(status));
      }
    }
  }

  void stop_all() override {
    kill_and_reap(std::vector<pid_t>(children_.begin(), children_.end()), SIGKILL);
    children_.clear();
  }

  Generation* generation_ = nullptr;
  std::set<pid_t> children_;
};

}  // namespace

std::unique_ptr<Strategy> make_fork_strategy(Section& section, ServerSettings& settings,
                                             const Section& top) {
  (void)section;
  (void)settings;
  (void)top;
  return std::make_unique<ForkStrategy>();
}

}  // namespace srv
