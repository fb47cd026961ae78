#pragma once

// How a connection waits for an event another connection causes (a BLPOP woken by an LPUSH, a
// subscriber by a PUBLISH), whichever thread or process of the server that other connection is
// served by. A handler asks its Waker for its address, keeps the address where the other side
// will find it (the resp keyspace, in shared memory), and parks; the other side rings the
// address and the parked handler's on_wake() runs on the thread that drives it. Header-only, as
// plugins see it: they do not link against srv.

#include <cstdint>
#include <span>

namespace srv {

/// Where to ring to wake one connection: the doorbell of the thread that drives it (an abstract
/// UNIX datagram socket name) and the connection's id. Plain data, 16 bytes, valid in every
/// process of the server, so it may be kept in shared memory. A default-constructed address is
/// not valid and ringing it does nothing.
struct WakeAddress {
  char doorbell[8] = {};         ///< the socket's abstract name without its leading NUL
  std::uint64_t connection = 0;  ///< ConnectionContext::id of the connection

  bool valid() const { return doorbell[0] != '\0'; }
  friend bool operator==(const WakeAddress&, const WakeAddress&) = default;
};
static_assert(sizeof(WakeAddress) == 16, "WakeAddress is kept in shared memory: keep it small");

/// One connection's waker, handed to its handler in the ConnectionContext. It outlives the
/// handler. Wakes may be spurious or coalesced (several rings, one on_wake): a woken handler
/// checks its own state.
class Waker {
 public:
  virtual ~Waker() = default;

  /// This connection's address. The first call opens the driving thread's doorbell if it is not
  /// open yet and enrols the connection with it; later calls return the same address. Not valid
  /// if no doorbell can be opened (out of descriptors): the handler must not park then. The
  /// handler's thread only.
  virtual WakeAddress address() = 0;

  /// Rings `to`: the handler behind it gets on_wake() soon, on the thread that drives it. Any
  /// thread, any process of the server; never blocks, so it may be called with a lock held; an
  /// address whose connection has gone is ignored. The same as srv::wake(), for plugins.
  virtual void wake(const WakeAddress& to) = 0;

  /// Rings every address in `to`, with one datagram per doorbell for up to 256 connections
  /// (a PUBLISH to 1000 subscribers of one event loop sends 4). The same as srv::wake_all().
  virtual void wake_all(std::span<const WakeAddress> to) = 0;
};

}  // namespace srv
