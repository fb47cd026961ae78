// prefork: a fixed pool of worker processes that each accept on the shared listeners and serve
// one connection at a time (Apache's prefork MPM). The master only keeps the pool full: it
// respawns a worker that dies for any reason and recycles one after max_connections_per_child.
// Capacity is `workers` connections; more wait in the kernel's listen backlog.

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
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

// A worker that dies this soon after it started is respawned only after this delay, so a worker
// that crashes at once cannot turn the master into a fork loop.
constexpr milliseconds kCrashLoopDelay{1000};

struct PreforkSettings {
  int workers = 4;
  long long max_connections_per_child = 0;  // 0: never recycle
};

// Inside a worker: serve each accepted connection to the end before accepting the next.
class InlineDispatcher final : public Dispatcher {
 public:
  InlineDispatcher(long long max_served, Generation& generation)
      : max_served_(max_served), generation_(generation) {}

  void dispatch(const AcceptedSocket& socket, Listener& listener) override {
    // A drain lets the connection finish; the master kills what outlives shutdown_timeout.
    serve_blocking(listener, socket, generation_.settings().limits, -1);
    if (max_served_ > 0 && ++served_ >= max_served_)
      generation_.drain();  // retire; master respawns
  }
  std::size_t live() const override { return 0; }
  bool serves_inline() const override { return true; }
  void reap() override {}
  void stop_all() override {}

 private:
  long long max_served_;
  long long served_ = 0;
  Generation& generation_;
};

class PreforkPool final : public Strategy {
 public:
  explicit PreforkPool(PreforkSettings own) : own_(own) {}

  void run(Generation& generation) override {
    generation_ = &generation;
    for (int slot = 0; slot < own_.workers; ++slot) spawn(generation, slot);
    // Workers must stop accepting before the drain is announced: a client that connects after
    // the "shutting down" line must not be served.
    generation.on_drain([this] {
      for (pid_t pid : pids()) ::kill(pid, SIGTERM);  // finish the current connection, exit
    });
    generation.on_reopen_logs([this] {
      for (pid_t pid : pids()) ::kill(pid, SIGUSR1);  // each reopens its own descriptors
    });
    for (;;) {
      if (generation.phase() == Phase::kStopping) {
        kill_and_reap(pids(), SIGKILL);
        return;
      }
      if (generation.phase() == Phase::kDraining && workers_.empty()) return;
      pollfd fd{generation.signal_fd(), POLLIN, 0};
      int ready = ::poll(&fd, 1, generation.poll_timeout(respawn_timeout()));
      if (ready > 0 && generation.handle_signals()) reap();
      respawn_due(generation);
      generation.tick();
    }
  }

 private:
  struct Worker {
    int slot;
    Clock::time_point started;
  };

  void spawn(Generation& generation, int slot) {
    pid_t parent = ::getpid();
    pid_t pid = fork_with_signals_blocked();
    if (pid < 0) {
      spdlog::error("fork: {}; retrying in {}ms", std::strerror(errno), kCrashLoopDelay.count());
      pending_[slot] = Clock::now() + kCrashLoopDelay;
      return;
    }
    if (pid == 0) worker_main(parent, generation);  // never returns
    workers_[pid] = Worker{slot, Clock::now()};
  }

  [[noreturn]] void worker_main(pid_t parent, Generation& master) {
    install_signal_pipe();  // our own pipe: SIGTERM from the master means "drain"
    ignore_terminal_interrupt();
    unblock_signals_in_child();
    prepare_child(parent, master, /*keep_listeners=*/true);
    {
      std::vector<Listener*> listeners(master.listeners().begin(), master.listeners().end());
      Generation mine(std::move(listeners), master.settings(), signal_pipe_fd());
      InlineDispatcher dispatcher(own_.max_connections_per_child, mine);
      run_accept_loop(mine, dispatcher);
    }
    ::_exit(0);
  }

  void reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      forget_process(pid);
      auto it = workers_.find(pid);
      if (it == workers_.end()) continue;
      Worker worker = it->second;
      workers_.erase(it);
      if (generation_->phase() != Phase::kRunning) continue;  // not respawned while draining
      bool retired = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (retired) {
        spdlog::info("worker pid {} retired after {} connections; respawning", pid,
                     own_.max_connections_per_child);
      } else {
        spdlog::warn("worker pid {} {}; respawning", pid, describe_exit(status));
      }
      bool crash_loop = !retired && Clock::now() - worker.started < kCrashLoopDelay;
      pending_[worker.slot] = crash_loop ? Clock::now() + kCrashLoopDelay : Clock::now();
    }
  }

  void respawn_due(Generation& generation) {
    if (generation.phase() != Phase::kRunning) {
      pending_.clear();
      return;
    }
    auto now = Clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      int slot = it->first;
      it = pending_.erase(it);
      spawn(generation, slot);
    }
  }

  int respawn_timeout() const {
    if (pending_.empty()) return -1;
    auto next = pending_.begin()->second;
    for (const auto& [slot, when] : pending_) next = std::min(next, when);
    return static_cast<int>(
        std::max<long long>(0, std::chrono::ceil<milliseconds>(next - Clock::now()).count()));
  }

  std::vector<pid_t> pids() const {
    std::vector<pid_t> out;
    for (const auto& [pid, worker] : workers_) out.push_back(pid);
    return out;
  }

  PreforkSettings own_;
  std::map<pid_t, Worker> workers_;
  std::map<int, Clock::time_point> pending_;  // slot -> when to respawn it
  Generation* generation_ = nullptr;
};

}  // namespace

std::unique_ptr<Strategy> make_prefork_strategy(Section& section, ServerSettings& settings,
                                                const Section& top) {
  (void)settings;
  (void)top;
  PreforkSettings own;
  own.workers = static_cast<int>(section.integer("workers", own.workers, 1, 1024));
  own.max_connections_per_child =
      section.integer("max_connections_per_child", 0, 0, 1'000'000'000'000LL);
  return std::make_unique<PreforkPool>(own);
}

}  // namespace srv
