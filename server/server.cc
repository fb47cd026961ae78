#include "server/server.h"

#include <unistd.h>

#include <chrono>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/accept.h"
#include "server/counters.h"
#include "server/doorbell.h"
#include "server/generation.h"
#include "server/listener.h"
#include "server/metrics.h"
#include "server/signals.h"
#include "server/socket_transport.h"
#include "strategies/strategy.h"

namespace srv {
namespace {

// What /status and /metrics say about this server. Today the process running the strategy
// knows it; the master will fill the same struct.
StatusInfo describe(const Config& config, const std::vector<std::unique_ptr<Listener>>& listeners) {
  StatusInfo status;
  status.version = SRV_VERSION;
  status.pid = ::getpid();
  status.pgid = ::getpgrp();
  status.root = status.pid;  // the group may be a script's: count this process and its children
  status.started = std::chrono::system_clock::now();
  status.config_file = config.source;
  status.generation = 1;
  status.strategy = config.strategy_name;
  for (const auto& listener : listeners) {
    status.listeners.push_back({listener->address(), listener->protocol_name(),
                                std::string(listener->transport().name())});
  }
  return status;
}

// The admin listener, served by the strategy like any other until the master serves it. Its
// connections are not counted in the metrics it shows.
std::unique_ptr<Listener> open_admin(const Config& config,
                                     const std::vector<std::unique_ptr<Listener>>& listeners) {
  StatusInfo status = describe(config, listeners);
  auto factory = make_admin_protocol(config.admin.allow, [status] { return status; });
  return std::make_unique<Listener>(config.admin.listen, 511, "admin", std::move(factory),
                                    std::make_shared<SocketTransportFactory>());
}

}  // namespace

int run_server(Config& config) {
  install_signal_pipe();
  reserve_spare_fd();
  init_counters();   // before anything forks, so every process adds to the same totals
  init_doorbells();  // likewise: a ring that finds a doorbell full is seen by its owner
  init_metrics();    // likewise

  std::vector<std::unique_ptr<Listener>> listeners;
  try {
    for (const ListenerConfig& lc : config.listeners) {
      listeners.push_back(std::make_unique<Listener>(lc.endpoint, lc.backlog, lc.protocol,
                                                     lc.factory, lc.transport));
      Listener& added = *listeners.back();
      added.count_into(
          listener_slot(added.address(), added.protocol_name(), added.transport().name()));
    }
    if (config.admin.enabled) listeners.push_back(open_admin(config, listeners));
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  std::vector<Listener*> views;
  for (const auto& listener : listeners) {
    views.push_back(listener.get());
    spdlog::info("listening on {} protocol={} transport={} strategy={}", listener->address(),
                 listener->protocol_name(), listener->transport().name(), config.strategy_name);
  }

  Generation generation(std::move(views), config.settings, signal_pipe_fd());
  config.strategy->run(generation);
  spdlog::info("stopped");
  return 0;
}

}  // namespace srv
