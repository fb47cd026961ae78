#include "server/server.h"

#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/accept.h"
#include "server/counters.h"
#include "server/doorbell.h"
#include "server/generation.h"
#include "server/listener.h"
#include "server/signals.h"
#include "strategies/strategy.h"

namespace srv {

int run_server(Config& config) {
  install_signal_pipe();
  reserve_spare_fd();
  init_counters();   // before anything forks, so every process adds to the same totals
  init_doorbells();  // likewise: a ring that finds a doorbell full is seen by its owner

  std::vector<std::unique_ptr<Listener>> listeners;
  try {
    for (const ListenerConfig& lc : config.listeners) {
      listeners.push_back(std::make_unique<Listener>(lc.endpoint, lc.backlog, lc.protocol,
                                                     lc.factory, lc.transport));
    }
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
