#pragma once

// The sans-IO protocol interface. A handler is given bytes and writes bytes; it never touches a
// socket, never blocks and does not know which strategy drives it. This header is the contract
// between protocol authors and strategy authors.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "server/buffer.h"
#include "server/clock.h"
#include "server/request_meter.h"
#include "server/waker.h"

namespace srv {

/// What the connection does after a handler call.
enum class Verdict {
  kContinue,         ///< keep the connection open and keep reading
  kCloseAfterFlush,  ///< stop reading, write everything already in the output buffer, then close
  kCloseNow,         ///< close at once; pending output is discarded
  /// The request is taken but cannot be answered yet (BLPOP on an empty list): offer no more
  /// input until on_wake() or on_deadline() says kContinue. Not the same as consuming nothing
  /// (which waits for more bytes): output already written is flushed, and the connection goes
  /// on reading, so a disconnect is noticed at once (on_eof, then the handler is destroyed);
  /// it holds what arrives, up to limits.max_input_buffer, then stops reading. idle_timeout
  /// does not apply while parked (as Redis spares blocked clients); the handler's deadline does.
  kPark,
};

/// The result of handing bytes to a handler: how much of the input it consumed, and what next.
struct Step {
  std::size_t consumed = 0;
  Verdict verdict = Verdict::kContinue;
};

/// Per-connection protocol state. Created by a ProtocolFactory for each accepted connection and
/// used on one thread at a time (the thread that drives that connection).
class ProtocolHandler {
 public:
  virtual ~ProtocolHandler() = default;

  /// Called with every byte received and not yet consumed. The handler appends replies to `out`
  /// and returns how many bytes of `in` (a prefix) it consumed. The driver keeps unconsumed bytes
  /// and calls again, with them at the front, while the handler makes progress and when more
  /// bytes arrive, so a handler may consume one request per call. `in` is only valid during the
  /// call. Must not block.
  virtual Step on_data(std::string_view in, Buffer& out) = 0;

  /// The peer has finished sending (read returned EOF). `rest` holds bytes that were never
  /// consumed (an incomplete request). The handler may still write a final reply. The driver
  /// flushes `out` unless the verdict is kCloseNow, then closes.
  virtual Verdict on_eof(std::string_view rest, Buffer& out) {
    (void)rest;
    (void)out;
    return Verdict::kCloseAfterFlush;
  }

  /// When the handler needs the peer to have made progress (HTTP's header-read timeout), or
  /// Clock::time_point::max() for never. The driver reads it after every call into the handler;
  /// a handler that wants one calls Clock::now() when, say, a request head begins.
  virtual Clock::time_point deadline() const { return Clock::time_point::max(); }

  /// deadline() has passed. The handler may write a last reply (408) and says what happens next;
  /// kContinue requires deadline() to have moved past now, or the connection is closed.
  virtual Verdict on_deadline(Buffer& out) {
    (void)out;
    return Verdict::kCloseNow;
  }

  /// True while the handler has consumed part of a request that is not complete yet (an HTTP
  /// body taken in pieces). The driver times a request from its first byte to the call that
  /// consumes its last (limits.read_timeout and min_rate): unconsumed input always counts as a
  /// request under way, and a call that consumes bytes while this is false ends the request.
  /// Handlers that consume whole requests only need not override it. Read after every on_data.
  virtual bool request_unfinished() const { return false; }

  /// The request under way took longer than read_timeout, or arrived slower than min_rate. The
  /// handler may write a last answer (HTTP: 408); the connection then closes after the flush.
  virtual void on_read_timeout(Buffer& out) { (void)out; }

  /// True while the connection waits for what other connections do rather than for its client
  /// (a subscriber): idle_timeout does not apply then, as Redis spares subscribers and blocked
  /// clients, though unsent output still times out. The driver reads it after every call into
  /// the handler. A parked connection is spared anyway.
  virtual bool waits_for_others() const { return false; }

  /// Someone rang this connection's waker (ConnectionContext::waker). Called on the thread that
  /// drives the connection, whenever a wake arrives while the connection is open, parked or not
  /// (a subscriber is not parked but gets pushed messages). Wakes may be spurious or several
  /// rings may come as one: check your own state. Write the reply (or nothing) to `out` and say
  /// what next: kContinue unparks (buffered input is offered again), kPark stays parked, a
  /// close verdict closes.
  virtual Verdict on_wake(Buffer& out) {
    (void)out;
    return Verdict::kContinue;
  }
};

/// What a handler learns about its connection when it is created.
struct ConnectionContext {
  /// Unique across every process of the server for its life (never 0).
  std::uint64_t id = 0;
  /// "HOST:PORT" of the client ("[::1]:5555" for IPv6). Valid during create(); copy it to keep.
  std::string_view peer;
  /// "HOST:PORT" the client connected to. Valid during create(); copy it to keep.
  std::string_view local;
  /// This connection's waker; outlives the handler.
  Waker& waker;
  /// Where the handler counts its requests (see RequestMeter); outlives the handler.
  RequestMeter& meter = null_meter();
};

/// Creates handlers. One factory serves one listener for the life of a strategy generation.
class ProtocolFactory {
 public:
  virtual ~ProtocolFactory() = default;

  /// Makes the handler for one new connection, on the thread that will drive it. May be called
  /// concurrently from several threads and from forked children, so it must not rely on
  /// unsynchronised shared state.
  virtual std::unique_ptr<ProtocolHandler> create(const ConnectionContext& context) = 0;

  /// Bytes written to a connection that is refused because a cap was reached, before it is
  /// closed (Redis answers "-ERR max number of clients reached"). Empty means close silently.
  virtual std::string_view refusal() const { return {}; }
};

}  // namespace srv
