#include "strategies/acceptor_loop.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/accept.h"
#include "server/socket.h"

namespace srv {
namespace {

constexpr int kAcceptBurst = 32;  // accepts per wake-up, so signals are not starved by a flood
constexpr milliseconds kBackOff{100};

// poll(2) reports a ready listener without looking at pending signals; the handler then runs on
// the way out and fills the self-pipe after poll sampled it. Looking again before accepting
// keeps a process that was told to drain long ago (a busy prefork worker) from accepting.
bool readable_now(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace

void run_accept_loop(Generation& generation, Dispatcher& dispatcher) {
  std::vector<pollfd> fds;
  Clock::time_point backoff_until{};
  for (;;) {
    if (generation.phase() == Phase::kStopping) {
      dispatcher.stop_all();
      return;
    }
    if (generation.phase() == Phase::kDraining && dispatcher.live() == 0) return;

    bool accepting = generation.phase() == Phase::kRunning && Clock::now() >= backoff_until;
    fds.assign({{generation.signal_fd(), POLLIN, 0}, {dispatcher.done_fd(), POLLIN, 0}});
    if (accepting) {
      for (Listener* listener : generation.listeners()) fds.push_back({listener->fd(), POLLIN, 0});
    }
    int own_timeout = -1;
    if (!accepting && generation.phase() == Phase::kRunning) {
      own_timeout =
          static_cast<int>(std::chrono::ceil<milliseconds>(backoff_until - Clock::now()).count());
    }
    int ready = ::poll(fds.data(), fds.size(), generation.poll_timeout(own_timeout));
    if (ready < 0 && errno != EINTR) {
      spdlog::error("poll: {}", std::strerror(errno));
      generation.life().begin_stop();
      continue;
    }
    if (ready > 0) {
      if ((fds[0].revents != 0 || readable_now(fds[0].fd)) && generation.handle_signals()) {
        dispatcher.reap();
      }
      if (fds[1].revents != 0) dispatcher.reap();
      // An inline dispatcher has just spent a whole session: poll again before another accept.
      bool served_inline = false;
      for (std::size_t i = 2;
           i < fds.size() && generation.phase() == Phase::kRunning && !served_inline; ++i) {
        if (fds[i].revents == 0) continue;
        Listener& listener = *generation.listeners()[i - 2];
        for (int n = 0; n < kAcceptBurst && !served_inline; ++n) {
          Accepted accepted = accept_connection(listener.fd());
          if (accepted.status == AcceptStatus::kAccepted) {
            dispatcher.dispatch(accepted.socket, listener);
            served_inline = dispatcher.serves_inline();
            continue;
          }
          if (accepted.status == AcceptStatus::kBackOff) backoff_until = Clock::now() + kBackOff;
          break;
        }
      }
    }
    generation.tick();
  }
}

}  // namespace srv
