#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "server/buffer.h"
#include "server/metrics.h"
#include "server/protocol.h"
#include "server/settings.h"
#include "server/transfer_clock.h"
#include "server/transport.h"

namespace srv {

class AccessLog;
class Doorbell;

/// The policy half of a connection: feeds the protocol handler what the transport reads, writes
/// its output with backpressure, applies the idle, linger and handler deadlines, and closes
/// gracefully. Every byte moves through the Transport. It never waits: callers poll fd() for
/// wants_read()/wants_write() (the blocking session loop with poll(2), event loops with their
/// poller) and call on_ready(); a connection whose has_pending() is true is called without
/// polling. Used on one thread at a time. Owns the transport (and so the fd) and the handler.
///
/// It is also its handler's Waker: address() enrols it with the doorbell of the thread that
/// drives it, and the driver calls on_wake() when that doorbell says it was rung. A handler that
/// parks (Verdict::kPark) is offered no input until on_wake() or its deadline unparks it.
class Connection final : private Waker {
 public:
  /// Who the connection is, for its handler's ConnectionContext.
  struct Origin {
    std::uint64_t id = 0;                   ///< next_connection_id()
    std::string_view peer;                  ///< "HOST:PORT"; only read during the constructor
    std::string_view local;                 ///< "HOST:PORT"; only read during the constructor
    ListenerSlot* metrics = nullptr;        ///< where it is counted (nullptr: nowhere)
    const AccessLog* access_log = nullptr;  ///< where its requests are logged (nullptr: nowhere)
  };

  /// Makes its handler with `factory`, this connection as the handler's waker. `doorbell` is
  /// the driving thread's (nullptr: the connection cannot be woken); it must outlive the
  /// connection, as must the limits.
  Connection(std::unique_ptr<Transport> transport, ProtocolFactory& factory, const Origin& origin,
             Doorbell* doorbell, const ConnectionLimits& limits);
  /// With a ready-made handler and no doorbell (tests).
  Connection(std::unique_ptr<Transport> transport, std::unique_ptr<ProtocolHandler> handler,
             const ConnectionLimits& limits);
  /// The limits are shared and must outlive the connection, so a temporary is refused.
  Connection(std::unique_ptr<Transport>, std::unique_ptr<ProtocolHandler>,
             const ConnectionLimits&&) = delete;
  Connection(std::unique_ptr<Transport>, ProtocolFactory&, const Origin&, Doorbell*,
             const ConnectionLimits&&) = delete;
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The socket to poll; owned by the transport.
  int fd() const { return transport_->fd(); }

  /// Call when fd() polled ready. Errors and hang-ups count as both readable and writable: the
  /// details come out of the next transport call. Call with (true, false) when has_pending().
  void on_ready(bool readable, bool writable);

  /// Poll interest for the next wait. Reading stops while output is above the high-water mark (a
  /// client that does not read its replies is not read from either); a transport that waits for
  /// the other direction (a TLS read that must first write) adds it.
  bool wants_read() const;
  bool wants_write() const;
  /// True when the transport holds input that polling cannot see and the connection would read
  /// it now: call on_ready(true, false) without waiting for the fd.
  bool has_pending() const;
  /// True once the connection is over; the owner then destroys it (closing the fd).
  bool finished() const { return state_ == State::kDone; }
  /// The handler parked and has not been unparked yet, and the connection is open.
  bool parked() const { return parked_ && state_ == State::kOpen; }
  std::uint64_t id() const { return id_; }
  /// Bytes of buffer storage the connection holds: 0 while it is idle (tests, accounting).
  std::size_t buffer_capacity() const { return input_.capacity() + output_.capacity(); }

  /// The doorbell says this connection was rung (perhaps spuriously, perhaps several times):
  /// an open connection's handler gets on_wake(), then buffered input is offered if it unparked
  /// and output is flushed. The driving thread.
  void on_wake();

  /// When on_timeout() is due if nothing happens before then: the idle or linger timeout, the
  /// transport's (an unfinished TLS handshake) or the handler's own deadline, a request's
  /// read_timeout or min_rate, a reply's write_timeout or min_rate, whichever is first. A parked
  /// connection with nothing to write has no idle timeout.
  Clock::time_point deadline() const;
  /// Call once deadline() has passed: the handler answers its own deadline (e.g. with a 408)
  /// and a request that came too slowly (on_read_timeout, then a close after the flush);
  /// anything else ends the connection. Afterwards the connection is finished or its
  /// deadline() lies in the future.
  void on_timeout();
  /// Ends the connection at once (shutdown deadline).
  void abort() { state_ = State::kDone; }

 private:
  enum class State {
    kOpen,        // reading and writing
    kReadClosed,  // the peer sent EOF: flush the output, then close
    kClosing,     // the handler asked to close: flush the output, shut our side down, linger
    kLingering,   // our side is shut down; discard input until EOF or the linger timeout
    kDone,
  };

  /// Reading is wanted by the policy (open and below the high-water mark, or lingering).
  bool reading() const;
  /// Writing is wanted by the policy: output to flush, or a shutdown to finish.
  bool writing() const;
  void read_input();
  void run_handler();
  void apply(Verdict verdict);
  void flush();
  /// Alternates flushing and feeding the handler until neither makes progress.
  void pump();
  /// Output is all written once flush() returns with it empty: then a pending close goes on.
  void after_flush();
  /// Keeps the reply clock and output_full_since_ in step with how much output waits.
  void note_output_level();
  /// Output exceeds limits.max_output_bytes: count, log (rate-limited) and end the connection.
  void cut_at_output_limit();
  void discard_input();
  /// Empty buffers give their storage back to the thread's spares (server/buffer_pool.h), so
  /// an idle connection holds none; prime_output() takes some before a handler writes.
  void release_idle_buffers();
  void prime_output();
  void touch() { last_activity_ = Clock::now(); }
  /// When the request under way has taken too long or come too slowly (max(): none).
  Clock::time_point request_deadline() const;
  /// When the output has kept us from reading too long or left too slowly (max(): none).
  Clock::time_point reply_deadline() const;
  /// When output held at output_high_water reaches write_timeout (max(): none).
  Clock::time_point write_timeout_deadline() const;
  /// A handler call consumed bytes: a request ended unless the handler says it is unfinished.
  void note_consumed();
  /// A request or reply was too slow: log it (rate-limited) and count it.
  void report_slow(bool request, Clock::time_point now) const;

  WakeAddress address() override;
  void wake(const WakeAddress& to) override;
  void wake_all(std::span<const WakeAddress> to) override;

  std::unique_ptr<Transport> transport_;
  Doorbell* doorbell_ = nullptr;  // before handler_: a handler may ask for its address at once
  std::uint64_t id_ = 0;
  ConnectionMeter meter_;  // before handler_: the handler's context refers to it
  std::unique_ptr<ProtocolHandler> handler_;
  const ConnectionLimits& limits_;
  Buffer input_;
  Buffer output_;
  State state_ = State::kOpen;
  Readiness read_waits_ = Readiness::kReadable;   // what the last blocked read waited for
  Readiness write_waits_ = Readiness::kWritable;  // what the last blocked write waited for
  bool handler_waits_for_bytes_ = false;          // last call consumed nothing: wait for new input
  bool parked_ = false;                           // the handler said kPark and was not unparked
  bool enrolled_ = false;                         // known to doorbell_: withdraw when destroyed
  Clock::time_point last_activity_;
  TransferClock request_;  // from a request's first byte to the call that consumes its last
  TransferClock reply_;    // from output becoming non-empty to its being all written
  Clock::time_point output_full_since_ = Clock::time_point::max();  // at or above high water
};

}  // namespace srv
