#pragma once

// Constructors of the built-in strategies, listed in strategies/registry.cc. Each reads and
// validates its own config section.

#include <memory>

#include "config/section.h"
#include "server/settings.h"
#include "strategies/strategy.h"

namespace srv {

std::unique_ptr<Strategy> make_fork_strategy(Section& section, ServerSettings& settings,
                                             const Section& top);
std::unique_ptr<Strategy> make_prefork_strategy(Section& section, ServerSettings& settings,
                                                const Section& top);
std::unique_ptr<Strategy> make_thread_strategy(Section& section, ServerSettings& settings,
                                               const Section& top);
std::unique_ptr<Strategy> make_threadpool_strategy(Section& section, ServerSettings& settings,
                                                   const Section& top);
std::unique_ptr<Strategy> make_select_strategy(Section& section, ServerSettings& settings,
                                               const Section& top);
std::unique_ptr<Strategy> make_poll_strategy(Section& section, ServerSettings& settings,
                                             const Section& top);
std::unique_ptr<Strategy> make_epoll_strategy(Section& section, ServerSettings& settings,
                                              const Section& top);
std::unique_ptr<Strategy> make_libevent_strategy(Section& section, ServerSettings& settings,
                                                 const Section& top);

}  // namespace srv
