#pragma once

// Whether this process's generation has begun to drain (a reload or a shutdown), for handlers
// that can end a connection gracefully at a request boundary: HTTP answers the next request with
// `Connection: close`, so a keep-alive client moves to the new generation without an error.

#include <atomic>

namespace srv {

/// Set once and never cleared (a draining process does not go back to serving). Handlers get it
/// through ConnectionContext::draining. Any thread; lock-free.
const std::atomic<bool>& process_draining();

/// Sets it. Async-signal-safe: a fork strategy child sets it from its SIGTERM handler.
void mark_process_draining();

}  // namespace srv
