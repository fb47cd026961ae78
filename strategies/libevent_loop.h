#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "server/connection.h"
#include "server/doorbell.h"
#include "server/generation.h"
#include "strategies/acceptor.h"

struct event;
struct event_base;

namespace srv {

/// The event loop of the `libevent` strategy: one thread drives the listeners, the signal pipe
/// and every connection through libevent's event_base, with raw events on the descriptors (no
/// bufferevents, so Connection keeps applying every limit, timeout and the backpressure itself).
/// Each connection has a read event and a write event, added while it wants that readiness, and
/// a timer for its deadline. Every byte moves an idle deadline later, so the timer is moved only
/// when the deadline comes *earlier*; a timer that fires early is armed again at the real
/// deadline. A connection whose transport holds input that polling cannot see (TLS records read
/// ahead) is made active with event_active() and served without waiting for the fd. The loop's
/// doorbell (server/doorbell.h) has a read event of its own: a ring calls the woken connections'
/// on_wake(), then runs what post() queued.
class LibeventLoop final : private Acceptor::Host {
 public:
  /// Does not own the base or the generation; both must outlive run(). Descriptors at or above
  /// `fd_limit` are refused (libevent's select backend cannot watch them). Construct it on the
  /// thread that runs it. Throws std::system_error if its doorbell cannot be opened.
  LibeventLoop(event_base* base, Generation& generation, int fd_limit);
  ~LibeventLoop() override;
  LibeventLoop(const LibeventLoop&) = delete;
  LibeventLoop& operator=(const LibeventLoop&) = delete;

  /// Runs on the calling thread until the generation has drained (no connections left) or been
  /// stopped; closes every connection it holds before returning.
  void run();

  /// Runs `fn` on the loop thread soon (after the wakes of its next turn), waking the loop if it
  /// waits. Any thread. What is posted after run() returns never runs.
  void post(std::function<void()> fn) { doorbell_.post(std::move(fn)); }

 private:
  struct EventDeleter {
    void operator()(event* ev) const;
  };
  using EventPtr = std::unique_ptr<event, EventDeleter>;

  /// One descriptor's connection and events. The events are made the first time the descriptor
  /// number serves a connection and kept for the next connection that gets the same number.
  struct Slot {
    std::unique_ptr<Connection> connection;
    EventPtr read;
    EventPtr write;
    EventPtr timer;
    bool reading = false;
    bool writing = false;
    Clock::time_point deadline;  // when the timer is armed for: never later than the connection's
  };

  /// A listener and the loop, the argument of the listener's event.
  struct Watch {
    LibeventLoop* loop;
    Listener* listener;
    EventPtr event;
  };

  static void on_readable(int fd, short what, void* self);
  static void on_writable(int fd, short what, void* self);
  static void on_deadline(int fd, short what, void* self);
  static void on_listener(int fd, short what, void* watch);
  static void on_signal(int fd, short what, void* self);
  static void on_doorbell(int fd, short what, void* self);

  std::size_t live() const override { return live_; }
  void watch_listeners(bool on) override;
  void add_connection(const AcceptedSocket& socket, Listener& listener) override;
  /// One turn: waits for events (no longer than the drain deadline or a back-off allow) and
  /// runs every callback that became due.
  void turn();
  void serve(int fd, bool readable, bool writable);
  /// The doorbell rang for the connection on `fd`.
  void wake(int fd);
  void expire(int fd);
  /// Brings the events and the timer in line with the connection's new state, or closes it
  /// when it is finished.
  void sync(int fd);
  void arm(Slot& slot, Clock::time_point deadline);
  void close(int fd);
  EventPtr make_event(int fd, short what, void (*callback)(int, short, void*), void* arg);

  event_base* base_;
  Generation& generation_;
  Acceptor acceptor_;
  Doorbell doorbell_{Doorbell::Open::kNow};  // outlives the connections enrolled with it
  EventPtr doorbell_event_;
  std::vector<Slot> slots_;  // indexed by fd
  std::vector<Watch> watches_;
  EventPtr signal_;
  EventPtr wake_;  // bounds a turn's wait by the drain deadline and the accept back-off
  std::size_t live_ = 0;
};

}  // namespace srv
