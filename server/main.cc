// srv: a multi-connection TCP server whose concurrency model is chosen at start-up.

#include <cstdio>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "config/config.h"
#include "protocols/registry.h"
#include "server/log.h"
#include "server/master.h"
#include "server/upgrade.h"
#include "strategies/strategy.h"

namespace {

constexpr int kExitConfigError = 2;

void print_list(auto registry) {
  for (const auto& info : registry)
    std::printf("%-12s %s\n", std::string(info.name).c_str(), std::string(info.summary).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  srv::remember_command_line(argc, argv);  // for a binary upgrade (SIGUSR2)
  CLI::App app{"srv: one protocol handler, served by any concurrency strategy"};
  srv::Overrides overrides;
  bool check_only = false;
  bool list_strategies = false;
  bool list_protocols = false;
  bool version = false;
  app.add_option("-c,--config", overrides.config_file, "YAML config file (default: embedded)");
  app.add_option("--strategy", overrides.strategy, "concurrency strategy (see --list-strategies)");
  app.add_option("-p,--protocol", overrides.protocol, "protocol for every listener");
  app.add_option("-l,--listen", overrides.listen, "HOST:PORT; replaces the listeners");
  app.add_option("--workers", overrides.workers, "prefork worker processes");
  app.add_option("--threads", overrides.threads, "threadpool worker threads");
  app.add_option("--max-connections", overrides.max_connections,
                 "cap on connections served at once");
  app.add_flag("--check-config", check_only, "validate the configuration and exit (0 or 2)");
  std::string signal_name;
  app.add_option("-s,--signal", signal_name,
                 "signal the running master (pid_file of the config): reload, stop or upgrade");
  app.add_flag("--list-strategies", list_strategies, "print the strategies and exit");
  app.add_flag("--list-protocols", list_protocols, "print the protocols and exit");
  app.add_flag("-V,--version", version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitConfigError;
  }

  if (version) {
    std::printf("srv %s\n", SRV_VERSION);
    return 0;
  }
  if (list_strategies || list_protocols) {
    if (list_strategies) print_list(srv::strategy_registry());
    if (list_protocols) print_list(srv::protocol_registry());
    return 0;
  }

  srv::Config config;
  try {
    config = srv::load_config(overrides);
  } catch (const srv::ConfigError& e) {
    std::fprintf(stderr, "srv: %s\n", e.what());
    return kExitConfigError;
  }
  if (!signal_name.empty()) return srv::signal_master(config, signal_name);
  if (check_only) {
    std::printf("%s: configuration ok (strategy %s, %zu listener%s)\n", config.source.c_str(),
                config.strategy_name.c_str(), config.listeners.size(),
                config.listeners.size() == 1 ? "" : "s");
    return 0;
  }
  srv::setup_logging(config.log);
  return srv::run_master(overrides, std::move(config));
}
