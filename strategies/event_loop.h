#pragma once

#include <list>
#include <memory>
#include <vector>

#include "server/connection.h"
#include "server/generation.h"
#include "strategies/poller.h"

namespace srv {

/// The event-loop core shared by select, poll and epoll: one thread multiplexes the listeners,
/// the signal pipe and every connection over a Poller. Connections are non-blocking; reading
/// stops while a client's output is above the high-water mark (backpressure). Idle and linger
/// timeouts are kept in one FIFO per kind, so expiring them is O(1) per connection.
class EventLoop {
 public:
  /// Does not own the poller or the generation; both must outlive run().
  EventLoop(Poller& poller, Generation& generation);
  ~EventLoop();

  /// Runs on the calling thread until the generation has drained (no connections left) or
  /// been stopped; closes every connection it holds before returning.
  void run();

 private:
  struct Slot {
    std::unique_ptr<Connection> connection;
    bool reading = false;
    bool writing = false;
    TimeoutKind kind = TimeoutKind::kIdle;
    Clock::time_point deadline;
    std::list<int>::iterator timer;
  };

  void on_event(const PollEvent& event);
  void accept_from(Listener& listener);
  void add_connection(int fd, Listener& listener);
  /// Brings the poller and the timeout lists in line with the connection's new state, or
  /// closes it when it is finished.
  void sync(int fd);
  void close(int fd);
  void expire(Clock::time_point now);
  int next_timeout_ms() const;
  void set_accepting(bool on);
  std::list<int>& timers(TimeoutKind kind) { return kind == TimeoutKind::kIdle ? idle_ : linger_; }

  Poller& poller_;
  Generation& generation_;
  std::vector<Slot> slots_;          // indexed by fd
  std::vector<int> listener_index_;  // fd -> index into generation_.listeners(), -1 otherwise
  std::list<int> idle_;
  std::list<int> linger_;
  std::size_t live_ = 0;
  bool accepting_ = false;
  Clock::time_point backoff_until_{};
};

}  // namespace srv
