#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "config/section.h"
#include "server/generation.h"
#include "server/settings.h"

namespace srv {

/// A concurrency model: drives connections from the server's listeners through the protocol
/// handlers. Strategies are thin drivers; the protocol never knows which one runs it.
class Strategy {
 public:
  virtual ~Strategy() = default;

  /// Serves `generation` until it has drained (after SIGTERM/SIGINT) or been stopped. Runs on the
  /// main thread, which it may fork from, and polls generation.signal_fd() there. Must not close
  /// the listeners. Returns only when every process and thread it started has ended.
  virtual void run(Generation& generation) = 0;
};

/// What happens to a connection beyond the strategy's capacity.
enum class Overflow {
  kRefuse,  ///< accepted, sent the protocol's refusal, closed
  kQueue,   ///< left in the kernel's listen backlog until a worker is free
};

/// One entry of the strategy registry (the way libevent lists its backends in eventops[]).
struct StrategyInfo {
  std::string_view name;
  std::string_view summary;
  Overflow overflow;
  /// Runs handlers of different connections on several threads at once.
  bool runs_threads;
  /// Runs handlers in forked processes.
  bool forks;
  /// Reads and validates this strategy's own config section (throws ConfigError pointing at the
  /// offending key) and returns a strategy ready to run. `section` is empty when absent; `top` is
  /// the whole file, for checks against shared keys such as max_connections. A strategy may
  /// tighten a shared default the user did not set (select lowers max_connections to fit).
  std::unique_ptr<Strategy> (*create)(Section& section, ServerSettings& settings,
                                      const Section& top);
};

/// Every strategy srv knows, in the order `srv --list-strategies` prints them.
std::span<const StrategyInfo> strategy_registry();
/// nullptr when no strategy has that name.
const StrategyInfo* find_strategy(std::string_view name);
/// "fork, prefork, ..." for error messages.
std::string strategy_names();

}  // namespace srv
