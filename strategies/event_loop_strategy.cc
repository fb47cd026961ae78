// select, poll, epoll: one thread, one event loop, every connection non-blocking. No process or
// thread per connection, so memory per connection is a few buffers; the price is that a slow
// handler stalls every connection, and one loop uses one core.

#include <fmt/format.h>

#include "strategies/builtin.h"
#include "strategies/epoll_poller.h"
#include "strategies/event_loop.h"
#include "strategies/poll_poller.h"
#include "strategies/select_poller.h"

namespace srv {
namespace {

// Descriptors the process holds besides connections: stdio, listeners, the signal pipe, the
// lifecycle eventfds, the spare fd for EMFILE, the poller's own fd, and some slack.
constexpr int kReservedFds = 32;

template <typename MakePoller>
class EventLoopStrategy final : public Strategy {
 public:
  explicit EventLoopStrategy(MakePoller make_poller) : make_poller_(std::move(make_poller)) {}

  void run(Generation& generation) override {
    auto poller = make_poller_();
    EventLoop loop(*poller, generation);
    loop.run();
  }

 private:
  MakePoller make_poller_;
};

template <typename MakePoller>
std::unique_ptr<Strategy> make_loop(MakePoller make_poller) {
  return std::make_unique<EventLoopStrategy<MakePoller>>(std::move(make_poller));
}

}  // namespace

std::unique_ptr<Strategy> make_select_strategy(Section& section, ServerSettings& settings,
                                               const Section& top) {
  (void)section;
  // Like nginx's select module: refuse a config that select() could not serve.
  int most = FD_SETSIZE - kReservedFds;
  if (settings.max_connections > most && !top.node()["max_connections"]) {
    settings.max_connections = most;  // the shared default is more than select can hold
  } else if (settings.max_connections > most) {
    top.fail("max_connections",
             fmt::format("strategy select can watch descriptors below FD_SETSIZE ({}) only, so at "
                         "most {} connections ({} descriptors are reserved); got {}. Lower "
                         "max_connections or use poll or epoll",
                         FD_SETSIZE, most, kReservedFds, settings.max_connections));
  }
  return make_loop([] { return std::make_unique<SelectPoller>(); });
}

std::unique_ptr<Strategy> make_poll_strategy(Section& section, ServerSettings& settings,
                                             const Section& top) {
  (void)section;
  (void)settings;
  (void)top;
  return make_loop([] { return std::make_unique<PollPoller>(); });
}

std::unique_ptr<Strategy> make_epoll_strategy(Section& section, ServerSettings& settings,
                                              const Section& top) {
  (void)settings;
  (void)top;
  int max_events = static_cast<int>(section.integer("max_events", 256, 1, 65536));
  return make_loop([max_events] { return std::make_unique<EpollPoller>(max_events); });
}

}  // namespace srv
