#include "strategies/strategy.h"

#include <array>

#include "server/registry_util.h"

#include "strategies/builtin.h"

namespace srv {
namespace {

const std::array kStrategies = {
    StrategyInfo{"fork", "a child process per connection (isolation; a fork per connection)",
                 Overflow::kRefuse, false, true, make_fork_strategy},
    StrategyInfo{"prefork",
                 "a fixed pool of worker processes, one connection each at a time (Apache prefork)",
                 Overflow::kQueue, false, true, make_prefork_strategy},
    StrategyInfo{"thread", "a thread per connection (a stack per connection)", Overflow::kRefuse,
                 true, false, make_thread_strategy},
    StrategyInfo{"threadpool", "an acceptor, a bounded queue and a fixed set of worker threads",
                 Overflow::kRefuse, true, false, make_threadpool_strategy},
    StrategyInfo{"select", "one event loop on select(2) (at most FD_SETSIZE descriptors)",
                 Overflow::kRefuse, false, false, make_select_strategy},
    StrategyInfo{"poll", "one event loop on poll(2) (cost grows with open connections)",
                 Overflow::kRefuse, false, false, make_poll_strategy},
    StrategyInfo{"epoll", "one event loop on epoll(7) (cost grows with ready connections)",
                 Overflow::kRefuse, false, false, make_epoll_strategy},
    StrategyInfo{"libevent",
                 "one event loop on libevent's event_base (libevent.method: epoll, poll, select)",
                 Overflow::kRefuse, false, false, make_libevent_strategy},
};

}  // namespace

std::span<const StrategyInfo> strategy_registry() {
  return kStrategies;
}

const StrategyInfo* find_strategy(std::string_view name) {
  return find_by_name<StrategyInfo>(kStrategies, name);
}

std::string strategy_names() {
  return names_of<StrategyInfo>(kStrategies);
}

}  // namespace srv
