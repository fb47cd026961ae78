#pragma once

#include <cstddef>

#include "server/clock.h"
#include "server/generation.h"
#include "server/listener.h"

namespace srv {

/// The accepting half of an event loop (muduo's Acceptor), shared by EventLoop and the libevent
/// loop: accepts a burst from a listener that polled readable, refuses what is over
/// max_connections or beyond the descriptors the loop can watch, backs off for a moment when the
/// process runs out of descriptors, and watches the listeners only while the generation runs and
/// no back-off is in force. Loop thread only.
class Acceptor {
 public:
  /// What the acceptor asks of the loop that owns it. Called on the loop thread.
  class Host {
   public:
    virtual ~Host() = default;
    /// Connections open in the loop (compared with max_connections).
    virtual std::size_t live() const = 0;
    /// Starts or stops watching every listener of the generation for readability.
    virtual void watch_listeners(bool on) = 0;
    /// Serves a connection accepted on `listener`. Takes ownership of the socket.
    virtual void add_connection(const AcceptedSocket& socket, Listener& listener) = 0;
  };

  /// Does not own the generation or the host; both must outlive it. Descriptors at or above
  /// `fd_limit` are refused (select(2) cannot watch them).
  Acceptor(Generation& generation, Host& host, int fd_limit);

  /// Begins watching the listeners. Call once when the loop starts.
  void start();
  /// `listener` polled readable: accepts up to a burst of connections. Ignored while not
  /// accepting (a readiness reported before the listeners were unwatched).
  void accept_from(Listener& listener);
  /// Call after every loop turn: stops accepting once the generation drains, and resumes when a
  /// back-off has run out.
  void update();
  /// Stops watching the listeners. Call when the loop ends.
  void stop();
  /// Milliseconds until a back-off ends and the loop must wake to resume accepting; -1 when the
  /// loop need not wake for that.
  int backoff_ms() const;

 private:
  void set_accepting(bool on);

  Generation& generation_;
  Host& host_;
  int fd_limit_;
  bool accepting_ = false;
  Clock::time_point backoff_until_{};
};

}  // namespace srv
