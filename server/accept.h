#pragma once

#include "server/socket.h"

namespace srv {

enum class AcceptStatus {
  kAccepted,    ///< `socket` is a new non-blocking, close-on-exec connection owned by the caller
  kWouldBlock,  ///< nothing pending (or a transient error): wait for readiness again
  kBackOff,     ///< out of fds or kernel memory: the pending connection (if any) was accepted
                ///< and closed so the listener does not stay readable; wait a little (no spin)
};

struct Accepted {
  AcceptStatus status = AcceptStatus::kWouldBlock;
  AcceptedSocket socket;  ///< with the peer's address, which accept4(2) gives for free
};

/// Accepts one connection from a non-blocking listener. On EMFILE/ENFILE it frees a reserved fd,
/// accepts and closes the newest connection, and re-reserves, so that a full fd table never
/// makes a level-triggered poller spin. Thread-safe. Logs shed connections at most once a second.
Accepted accept_connection(int listen_fd);

/// Reserves the spare fd used by accept_connection(). Call once at start-up.
void reserve_spare_fd();

}  // namespace srv
