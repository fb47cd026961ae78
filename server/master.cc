#include "server/master.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocols/admin.h"
#include "server/accept.h"
#include "server/counters.h"
#include "server/doorbell.h"
#include "server/drain_notice.h"
#include "server/generation.h"
#include "server/listener.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/metrics_render.h"
#include "server/pid_file.h"
#include "server/signals.h"
#include "server/socket_transport.h"
#include "server/upgrade.h"
#include "strategies/process_util.h"
#include "strategies/strategy.h"

namespace srv {
namespace {

/// A new generation must have run this long before the old one is told to drain: one that
/// dies at once (a strategy that cannot start) leaves the old one serving.
constexpr milliseconds kSettle{300};
/// Respawn delays: doubled for each death within kStable of a start, up to kMaxBackoff.
constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{10'000};
constexpr milliseconds kStable{10'000};
/// A draining generation still alive this long after its shutdown_timeout is killed.
constexpr milliseconds kKillGrace{5'000};

/// Thrown in a generation's process once its strategy has returned, to unwind to main().
struct GenerationDone {
  int code;
};

/// One generation: its config, its Listeners over the master's sockets, and its process.
struct Run {
  int number = 0;
  std::shared_ptr<Config> config;
  std::vector<std::unique_ptr<Listener>> listeners;
  pid_t pid = -1;  // -1: not running (a respawn is due at respawn_at)
  Clock::time_point started;
  bool draining = false;
  bool failed = false;  // died before it settled: never respawned
  int quick_deaths = 0;
  Clock::time_point settle_at = Clock::time_point::max();
  Clock::time_point respawn_at = Clock::time_point::max();
  Clock::time_point kill_at = Clock::time_point::max();
};

class Master {
 public:
  Master(const Overrides& overrides, PidFile& pid_file)
      : overrides_(overrides), pid_file_(pid_file), inherited_(take_inheritance()) {}

  /// Binds the first generation's listeners and serves until stopped. Returns the exit code.
  int run(Config config);

 private:
  /// Listeners for `config` over kept sockets (bound anew where none matches). Throws with the
  /// address when one cannot be bound.
  std::vector<std::unique_ptr<Listener>> bind(const Config& config, int number);
  /// The socket kept under `key`, or a new one bound to `endpoint` and kept from now on.
  std::shared_ptr<ListenSocket> keep_socket(const std::string& key, const Endpoint& endpoint,
                                            int backlog);
  std::unique_ptr<Listener> bind_admin(const Config& config, int number,
                                       const std::vector<std::unique_ptr<Listener>>& listeners);
  /// What /status and /metrics say about generation `number`.
  StatusInfo describe(const Config& config, int number,
                      const std::vector<std::unique_ptr<Listener>>& listeners) const;
  void spawn(Run& run);
  [[noreturn]] void serve_in_child(Run& run);
  void reload();
  /// SIGUSR2: starts the binary anew with the listening sockets (server/upgrade.h).
  void upgrade();
  /// Started by an upgrade, this master's first generation has settled: the old master drains.
  void take_over();
  /// Inherited sockets the config does not name are closed.
  void close_unclaimed_inherited();
  /// SIGUSR1 (logrotate): the master's log reopens at its next line; each generation's process
  /// is told to reopen its own.
  void reopen_logs();
  void reap();
  void on_exit(Run& run, int status);
  void terminate();
  void tick();
  int poll_timeout() const;
  void drop_unused_sockets();
  bool running_any() const;

  Overrides overrides_;
  PidFile& pid_file_;
  Inheritance inherited_;   // sockets not yet claimed, and the old master until take_over()
  pid_t upgrade_pid_ = -1;  // the new master an upgrade started, until it exits
  int exit_code_ = 0;
  std::map<std::string, std::shared_ptr<ListenSocket>> sockets_;  // by configured endpoint
  std::list<Run> runs_;
  int next_number_ = 1;
  bool stopping_ = false;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

std::string socket_key(const ListenerConfig& lc) {
  return format_endpoint(lc.endpoint.host.empty() ? "*" : lc.endpoint.host, lc.endpoint.port);
}

std::vector<std::unique_ptr<Listener>> Master::bind(const Config& config, int number) {
  std::vector<std::unique_ptr<Listener>> out;
  std::set<std::string> keys;
  int any_port = 0;
  for (const ListenerConfig& lc : config.listeners) {
    // Port 0 asks for a port of its own: the n-th such listener keeps the n-th such socket.
    std::string key = socket_key(lc);
    if (lc.endpoint.port == 0) key += fmt::format(" #{}", any_port++);
    if (!keys.insert(key).second) {
      throw std::runtime_error(fmt::format("cannot listen on {} twice", key));
    }
    std::shared_ptr<ListenSocket> socket = keep_socket(key, lc.endpoint, lc.backlog);
    out.push_back(std::make_unique<Listener>(socket, lc.protocol, lc.factory, lc.transport));
    Listener& added = *out.back();
    added.log_access_to(lc.access_log);
    added.count_into(
        listener_slot(added.address(), added.protocol_name(), added.transport().name()));
  }
  if (config.admin.enabled) out.push_back(bind_admin(config, number, out));
  return out;
}

std::shared_ptr<ListenSocket> Master::keep_socket(const std::string& key, const Endpoint& endpoint,
                                                  int backlog) {
  auto kept = sockets_.find(key);
  if (kept != sockets_.end()) return kept->second;
  if (auto inherited = inherited_.sockets.find(key); inherited != inherited_.sockets.end()) {
    int fd = inherited->second;
    inherited_.sockets.erase(inherited);
    try {
      auto socket = std::make_shared<ListenSocket>(fd, endpoint);
      sockets_.emplace(key, socket);
      spdlog::info("listener {}: socket inherited from the old master (fd {})", socket->address(),
                   fd);
      return socket;
    } catch (const std::exception& e) {
      spdlog::warn("{}: {}; binding anew", key, e.what());
    }
  }
  // Bound before it is filed: a bind that throws leaves no empty entry behind.
  auto socket = std::make_shared<ListenSocket>(endpoint, backlog);
  sockets_.emplace(key, socket);
  return socket;
}

StatusInfo Master::describe(const Config& config, int number,
                            const std::vector<std::unique_ptr<Listener>>& listeners) const {
  StatusInfo status;
  status.version = SRV_VERSION;
  status.pid = ::getpid();
  status.pgid = ::getpgrp();
  status.root = status.pid;  // the group may be a script's: count the master and its children
  status.started = started_;
  status.config_file = config.source;
  status.generation = number;
  status.strategy = config.strategy_name;
  for (const auto& listener : listeners) {
    status.listeners.push_back({listener->address(), listener->protocol_name(),
                                std::string(listener->transport().name())});
  }
  return status;
}

std::unique_ptr<Listener> Master::bind_admin(
    const Config& config, int number, const std::vector<std::unique_ptr<Listener>>& listeners) {
  std::shared_ptr<ListenSocket> socket =
      keep_socket("admin " + format_endpoint(config.admin.listen.host, config.admin.listen.port),
                  config.admin.listen, 511);
  StatusInfo status = describe(config, number, listeners);
  // Each generation serves the admin listener like its others (its connections are not
  // counted in the metrics it shows): /healthz says 503 once it drains.
  auto factory = make_admin_protocol(config.admin.allow, [status] {
    StatusInfo now = status;
    now.draining = process_draining().load(std::memory_order_relaxed);
    return now;
  });
  return std::make_unique<Listener>(socket, "admin", std::move(factory),
                                    std::make_shared<SocketTransportFactory>());
}

int Master::run(Config first) {
  auto config = std::make_shared<Config>(std::move(first));
  Run& run = runs_.emplace_back();
  run.number = next_number_++;
  run.config = config;
  try {
    run.listeners = bind(*config, run.number);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  close_unclaimed_inherited();
  if (inherited_.old_master > 0) {
    run.settle_at = Clock::now() + kSettle;  // the old master drains once this one has settled
  } else {
    pid_file_.write();
  }
  for (const auto& listener : run.listeners) {
    spdlog::info("listening on {} protocol={} transport={} strategy={}", listener->address(),
                 listener->protocol_name(), listener->transport().name(), config->strategy_name);
  }
  try {
    spawn(run);
    while (running_any() || !stopping_) {
      pollfd pfd{signal_pipe_fd(), POLLIN, 0};
      if (::poll(&pfd, 1, poll_timeout()) > 0) {
        SignalSet set = take_signals();
        if (set.child) reap();
        if (set.terminate) terminate();
        if (set.reload && !stopping_) reload();
        if (set.upgrade) upgrade();
        if (set.reopen_logs) reopen_logs();
      }
      tick();
    }
  } catch (const GenerationDone& done) {
    return done.code;  // in a generation's process: its strategy has finished
  }
  spdlog::info("stopped");
  return exit_code_;
}

void Master::close_unclaimed_inherited() {
  for (const auto& [key, fd] : inherited_.sockets) {
    spdlog::info("inherited socket {} (fd {}) is not in the config: closed", key, fd);
    ::close(fd);
  }
  inherited_.sockets.clear();
}

void Master::upgrade() {
  if (stopping_) {
    spdlog::warn("upgrade ignored: this master is shutting down");
    return;
  }
  if (inherited_.old_master > 0) {
    spdlog::warn("upgrade ignored: this master is still taking over from pid {}",
                 inherited_.old_master);
    return;
  }
  if (upgrade_pid_ > 0) {
    spdlog::warn("upgrade ignored: the new master started by the last one (pid {}) is running",
                 upgrade_pid_);
    return;
  }
  std::map<std::string, int> sockets;
  for (const auto& [key, socket] : sockets_) sockets.emplace(key, socket->fd());
  upgrade_pid_ = start_new_binary(sockets);
  if (upgrade_pid_ > 0) {
    spdlog::info(
        "upgrade: new master started, pid {}, with {} listening sockets; this master drains "
        "once the new one's generation has settled",
        upgrade_pid_, sockets.size());
  }
}

void Master::take_over() {
  spdlog::info("upgrade: generation {} serves; the old master (pid {}) drains", runs_.back().number,
               inherited_.old_master);
  pid_file_.write();  // first: the old master removes the file at exit if it still names it
  ::kill(inherited_.old_master, SIGTERM);
  inherited_.old_master = 0;
}

void Master::spawn(Run& run) {
  pid_t master = ::getpid();
  pid_t pid = fork_with_signals_blocked();
  if (pid < 0) {
    spdlog::error("generation {}: cannot fork: {}", run.number, std::strerror(errno));
    run.respawn_at = Clock::now() + kMaxBackoff;
    return;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a master that dies drains its generations
    if (::getppid() != master) ::raise(SIGTERM);
    serve_in_child(run);
  }
  run.pid = pid;
  run.started = Clock::now();
  run.respawn_at = Clock::time_point::max();
  spdlog::info("generation {} started: strategy {}, pid {}", run.number, run.config->strategy_name,
               pid);
}

void Master::serve_in_child(Run& run) {
  // In every line of this process and of those it forks.
  set_log_generation(run.number);
  install_signal_pipe();  // its own: the master's signals are the master's
  ignore_terminal_interrupt();
  unblock_signals_in_child();
  // Sockets other generations use are none of this one's business.
  for (const auto& entry : sockets_) {
    const std::shared_ptr<ListenSocket>& socket =
        entry.second;  // clang 14: no lambda capture of a structured binding
    bool mine = std::any_of(run.listeners.begin(), run.listeners.end(),
                            [&](const auto& l) { return l->fd() == socket->fd(); });
    if (!mine) socket->close_here();
  }
  std::vector<Listener*> views;
  for (const auto& listener : run.listeners) views.push_back(listener.get());
  Generation generation(std::move(views), run.config->settings, signal_pipe_fd());
  run.config->strategy->run(generation);
  spdlog::info("generation {} stopped", run.number);
  throw GenerationDone{0};
}

void Master::reload() {
  const auto began = Clock::now();
  std::shared_ptr<Config> config;
  std::vector<std::unique_ptr<Listener>> listeners;
  try {
    config = std::make_shared<Config>(load_config(overrides_));
    listeners = bind(*config, next_number_);
  } catch (const std::exception& e) {
    count(Counter::kReloadsRefused);
    count_reload(false);
    spdlog::error("reload refused: {} (the running generation goes on)", e.what());
    drop_unused_sockets();
    return;
  }
  setup_logging(config->log);
  Run& run = runs_.emplace_back();
  run.number = next_number_++;
  run.config = std::move(config);
  run.listeners = std::move(listeners);
  run.settle_at = Clock::now() + kSettle;
  spawn(run);
  count(Counter::kReloads);
  count_reload(true);
  spdlog::info(
      "reload: generation {} (strategy {}) starting in {} ms; the old one drains once it "
      "has settled",
      run.number, run.config->strategy_name,
      std::chrono::duration_cast<milliseconds>(Clock::now() - began).count());
}

void Master::reopen_logs() {
  spdlog::info("SIGUSR1: reopening log files in every process");
  for (const Run& run : runs_) {
    if (run.pid > 0) ::kill(run.pid, SIGUSR1);
  }
}

void Master::reap() {
  int status = 0;
  for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
    forget_process(pid);  // a generation killed with connections open no longer counts them
    if (pid == upgrade_pid_) {
      upgrade_pid_ = -1;
      // After a take-over this master is draining and logs nothing: the new one goes on.
      if (!stopping_) {
        spdlog::error("upgrade failed: the new master (pid {}) {}; this master goes on serving",
                      pid, describe_exit(status));
      }
      continue;
    }
    auto it = std::find_if(runs_.begin(), runs_.end(), [&](const Run& r) { return r.pid == pid; });
    if (it != runs_.end()) on_exit(*it, status);
  }
  runs_.remove_if([](const Run& r) { return r.pid < 0 && (r.draining || r.failed); });
  drop_unused_sockets();
}

void Master::on_exit(Run& run, int status) {
  run.pid = -1;
  if (run.draining || stopping_) {
    run.draining = true;  // done: removed by reap()
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      spdlog::info("generation {} has drained: {}", run.number, describe_exit(status));
      return;
    }
    // Killed at its deadline, or a failure at exit (a sanitizer's leak report): the master's
    // exit status says so too, so that a supervisor or a test sees it.
    spdlog::error("generation {} {} as it drained", run.number, describe_exit(status));
    exit_code_ = 1;
    return;
  }
  if (run.settle_at != Clock::time_point::max() && inherited_.old_master > 0) {
    spdlog::error(
        "upgrade failed: generation {} (strategy {}) {} as it started; the old master "
        "(pid {}) goes on serving",
        run.number, run.config->strategy_name, describe_exit(status), inherited_.old_master);
    run.failed = true;
    stopping_ = true;
    exit_code_ = 1;
    return;
  }
  if (run.settle_at != Clock::time_point::max()) {
    run.failed = true;
    count(Counter::kReloadsFailed);
    spdlog::error(
        "reload failed: generation {} (strategy {}) {} as it started; the previous "
        "generation goes on serving",
        run.number, run.config->strategy_name, describe_exit(status));
    return;
  }
  auto lived = Clock::now() - run.started;
  run.quick_deaths = lived < kStable ? run.quick_deaths + 1 : 0;
  milliseconds delay = kFirstBackoff;
  for (int i = 1; i < run.quick_deaths && delay < kMaxBackoff; ++i) delay *= 2;
  delay = std::min(delay, kMaxBackoff);
  run.respawn_at = Clock::now() + delay;
  count(Counter::kGenerationRestarts);
  count_worker_restart();
  spdlog::error("generation {} (strategy {}) {}; starting it again in {} ms", run.number,
                run.config->strategy_name, describe_exit(status), delay.count());
}

void Master::terminate() {
  auto now = Clock::now();
  if (!stopping_) {
    stopping_ = true;
    spdlog::info("shutting down: generations drain; open connections have their shutdown_timeout");
  }
  for (Run& run : runs_) {
    run.respawn_at = Clock::time_point::max();
    if (run.pid < 0) continue;
    // A second signal reaches a generation already draining: it closes its connections now.
    ::kill(run.pid, SIGTERM);
    if (run.kill_at == Clock::time_point::max()) {
      run.kill_at = now + run.config->settings.shutdown_timeout + kKillGrace;
    }
  }
}

void Master::tick() {
  auto now = Clock::now();
  for (Run& run : runs_) {
    if (run.pid < 0 && run.respawn_at <= now && !stopping_) spawn(run);
    if (run.pid > 0 && run.kill_at <= now) {
      spdlog::warn("generation {} (pid {}) outlived its shutdown_timeout: killing it", run.number,
                   run.pid);
      ::kill(run.pid, SIGKILL);
      run.kill_at = Clock::time_point::max();
    }
    if (run.pid > 0 && run.settle_at <= now) {
      run.settle_at = Clock::time_point::max();
      for (Run& old : runs_) {
        if (&old == &run || old.draining || old.number > run.number) continue;
        old.draining = true;
        old.respawn_at = Clock::time_point::max();
        if (old.pid > 0) {
          ::kill(old.pid, SIGTERM);
          old.kill_at = now + old.config->settings.shutdown_timeout + kKillGrace;
          spdlog::info("generation {} drains: generation {} serves", old.number, run.number);
        }
      }
      reap();  // an old one waiting to respawn is simply dropped
      if (inherited_.old_master > 0) take_over();
    }
  }
}

int Master::poll_timeout() const {
  auto next = Clock::time_point::max();
  for (const Run& run : runs_) next = std::min({next, run.respawn_at, run.kill_at, run.settle_at});
  if (next == Clock::time_point::max()) return -1;
  auto left = std::chrono::ceil<milliseconds>(next - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

void Master::drop_unused_sockets() {
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    bool used = std::any_of(runs_.begin(), runs_.end(), [&](const Run& run) {
      return std::any_of(run.listeners.begin(), run.listeners.end(),
                         [&](const auto& l) { return l->fd() == it->second->fd(); });
    });
    if (used) {
      ++it;
    } else {
      spdlog::info("closed listener {}: no generation serves it", it->second->address());
      it = sockets_.erase(it);
    }
  }
}

bool Master::running_any() const {
  return std::any_of(runs_.begin(), runs_.end(), [](const Run& r) { return r.pid > 0; });
}

}  // namespace

int run_master(const Overrides& overrides, Config config) {
  install_signal_pipe();
  // Orphans (a fork child or prefork worker whose generation was killed) come to the master,
  // which reaps them and takes back what they counted (forget_process) instead of init.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  reserve_spare_fd();
  init_counters();   // before anything forks, so every process adds to the same totals
  init_doorbells();  // likewise: a ring that finds a doorbell full is seen by its owner
  init_metrics();    // likewise
  PidFile pid_file(config.pid_file);
  Master master(overrides, pid_file);
  return master.run(std::move(config));
}

}  // namespace srv
