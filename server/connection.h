#pragma once

#include <memory>

#include "server/buffer.h"
#include "server/protocol.h"
#include "server/settings.h"

namespace srv {

/// The I/O half of a connection: reads from a non-blocking socket, feeds the protocol handler,
/// writes its output with backpressure, and closes gracefully. It never waits: callers poll the
/// fd (the blocking session loop with poll(2), event loops with their poller) and call
/// on_readable()/on_writable(). Used on one thread at a time. Owns the fd and the handler.
class Connection {
 public:
  Connection(int fd, std::unique_ptr<ProtocolHandler> handler, const ConnectionLimits& limits);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }

  /// Call when the fd polls readable (or reports an error/hang-up while reading is wanted).
  void on_readable();
  /// Call when the fd polls writable.
  void on_writable();

  /// Interest for the next poll. wants_read() is false while output is above the high-water
  /// mark: a client that does not read its replies is not read from either.
  bool wants_read() const;
  bool wants_write() const;
  /// True once the connection is over; the owner then destroys it (closing the fd).
  bool finished() const { return state_ == State::kDone; }

  /// When on_timeout() is due if nothing happens before then: the idle or linger timeout, or
  /// the handler's own deadline, whichever comes first.
  Clock::time_point deadline() const;
  /// Call once deadline() has passed: the handler answers its own deadline (e.g. with a 408),
  /// anything else ends the connection. Afterwards the connection is finished or its
  /// deadline() lies in the future.
  void on_timeout();
  /// Ends the connection at once (timeout, shutdown deadline).
  void abort() { state_ = State::kDone; }

 private:
  enum class State {
    kOpen,        // reading and writing
    kReadClosed,  // the peer sent EOF: flush the output, then close
    kClosing,     // the handler asked to close: flush the output, then linger
    kLingering,   // our side is shut down; discard input until EOF or the linger timeout
    kDone,
  };

  void run_handler();
  void apply(Verdict verdict);
  void flush();
  /// Alternates flushing and feeding the handler until neither makes progress.
  void pump();
  void after_flush();
  void discard_input();
  void touch() { last_activity_ = Clock::now(); }

  int fd_;
  std::unique_ptr<ProtocolHandler> handler_;
  const ConnectionLimits& limits_;
  Buffer input_;
  Buffer output_;
  State state_ = State::kOpen;
  bool handler_waits_for_bytes_ = false;  // last call consumed nothing: wait for new input
  Clock::time_point last_activity_;
};

}  // namespace srv
