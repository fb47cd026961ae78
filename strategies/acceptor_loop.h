#pragma once

#include <cstddef>

#include "server/generation.h"
#include "server/listener.h"

namespace srv {

/// What a blocking strategy does with accepted connections. The shared accept loop calls every
/// method on the main thread.
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;

  /// Serves, queues or refuses a connection accepted on `listener`. Takes ownership of the
  /// socket.
  virtual void dispatch(const AcceptedSocket& socket, Listener& listener) = 0;
  /// Connections being served or queued. A drain ends when this reaches 0.
  virtual std::size_t live() const = 0;
  /// Something may have finished (SIGCHLD arrived, or done_fd() polled readable): reap child
  /// processes or join finished threads. Must not block.
  virtual void reap() = 0;
  /// True when dispatch() serves the connection to its end before returning (a prefork worker):
  /// the loop then polls again after each one, so a drain signal that arrived during the
  /// session is seen before the next accept.
  virtual bool serves_inline() const { return false; }
  /// Readable when a connection served by another thread ends; -1 when SIGCHLD tells instead.
  virtual int done_fd() const { return -1; }
  /// The drain deadline passed: end every connection now. Returns when all of them are gone.
  virtual void stop_all() = 0;
};

/// The main-thread loop of the blocking strategies (fork, thread, threadpool, and each prefork
/// worker): polls the listeners and the generation's signal fd, accepts, hands connections to
/// `dispatcher`, stops accepting once draining, and returns when live() is 0 or the drain
/// deadline forced stop_all(). Backs off briefly when the process runs out of fds.
void run_accept_loop(Generation& generation, Dispatcher& dispatcher);

}  // namespace srv
