// select, poll, epoll: one thread, one event loop, every connection non-blocking. No process or
// thread per connection, so memory per connection is a few buffers; the price is that a slow
// handler stalls every connection, and one loop uses one core.

#include "strategies/builtin.h"
#include "strategies/epoll_poller.h"
#include "strategies/event_loop.h"
#include "strategies/fd_setsize.h"
#include "strategies/poll_poller.h"
#include "strategies/select_poller.h"

namespace srv {
namespace {

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
  fit_max_connections_to_fd_setsize(settings, top, "strategy select", "poll or epoll");
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
