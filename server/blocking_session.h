#pragma once

#include "server/listener.h"
#include "server/settings.h"
#include "server/socket.h"

namespace srv {

/// The session loop shared by every blocking strategy (fork, prefork, thread, threadpool): the
/// calling thread makes the connection for `socket` (accepted on `listener`) and is dedicated to
/// it, blocking in poll(2) on its socket until the connection ends, its idle/linger timeout
/// passes, or `stop_fd` (-1 for none; typically Lifecycle::stop_fd()) becomes readable. Once the
/// handler asks for its wake address, the session's own doorbell is polled too, and a ring for
/// the connection calls its on_wake(). Closes the connection before returning.
void serve_blocking(const Listener& listener, const AcceptedSocket& socket,
                    const ConnectionLimits& limits, int stop_fd);

}  // namespace srv
