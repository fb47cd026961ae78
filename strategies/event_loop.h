#pragma once

#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "server/connection.h"
#include "server/doorbell.h"
#include "server/generation.h"
#include "strategies/acceptor.h"
#include "strategies/poller.h"

namespace srv {

/// The event-loop core shared by select, poll and epoll: one thread multiplexes the listeners,
/// the signal pipe and every connection over a Poller. A connection whose transport holds
/// decoded input the poller cannot see (TLS records read ahead) is served on the next turn
/// without waiting, as redis serves pending TLS data before it sleeps. Connections are
/// non-blocking; reading stops while a client's output is above the high-water mark (backpressure).
/// Deadlines (idle, linger, the handler's own) sit in one ordered set. Every byte moves an idle
/// deadline later, so a connection's entry is moved only when its deadline comes *earlier*; an
/// entry that falls due early is filed again at the real deadline. That keeps the set out of the
/// per-event path. The loop's doorbell (server/doorbell.h) is watched like a socket: a ring calls
/// the woken connections' on_wake(), then runs what post() queued.
class EventLoop final : private Acceptor::Host {
 public:
  /// Does not own the poller or the generation; both must outlive run(). Construct it on the
  /// thread that runs it. Throws std::system_error if its doorbell cannot be opened.
  EventLoop(Poller& poller, Generation& generation);
  ~EventLoop() override;

  /// Runs on the calling thread until the generation has drained (no connections left) or
  /// been stopped; closes every connection it holds before returning.
  void run();

  /// Runs `fn` on the loop thread soon (after the wakes of its next turn), waking the loop if it
  /// waits. Any thread. What is posted after run() returns never runs.
  void post(std::function<void()> fn) { doorbell_.post(std::move(fn)); }

 private:
  struct Slot {
    std::unique_ptr<Connection> connection;
    bool reading = false;
    bool writing = false;
    bool pending = false;        // listed in pending_
    Clock::time_point deadline;  // as filed in timers_: never later than the connection's
  };

  std::size_t live() const override { return live_; }
  void watch_listeners(bool on) override;
  void add_connection(const AcceptedSocket& socket, Listener& listener) override;
  void on_event(const PollEvent& event);
  /// The doorbell rang for the connection on `fd`.
  void wake(int fd);
  /// Brings the poller and the timeout lists in line with the connection's new state, or
  /// closes it when it is finished.
  void sync(int fd);
  void close(int fd);
  /// Reads connections whose transport holds input that polling cannot report.
  void serve_pending();
  /// Files the connection's timer entry at `deadline` instead of where it was.
  void refile(int fd, Clock::time_point deadline);
  void expire(Clock::time_point now);
  int next_timeout_ms() const;

  Poller& poller_;
  Generation& generation_;
  Acceptor acceptor_;
  Doorbell doorbell_{Doorbell::Open::kNow};  // outlives the connections enrolled with it
  std::vector<Slot> slots_;                  // indexed by fd
  std::vector<int> listener_index_;  // fd -> index into generation_.listeners(), -1 otherwise
  std::set<std::pair<Clock::time_point, int>> timers_;
  std::vector<int> pending_;  // fds with Slot::pending set
  std::size_t live_ = 0;
};

}  // namespace srv
