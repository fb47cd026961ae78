#pragma once

// Settings every strategy honours, read from the top level of the config.

#include <cstddef>

#include "server/clock.h"
#include "server/transfer_clock.h"

namespace srv {

/// Per-connection bounds, applied identically by the blocking session loop and the event loops.
struct ConnectionLimits {
  /// A connection with no bytes read or written for this long is closed.
  milliseconds idle_timeout{60'000};
  /// A request begun (bytes of it received, or held unconsumed) must have arrived whole within
  /// this, however steadily its bytes trickle in; 0: no bound. The handler may answer (408).
  milliseconds read_timeout{30'000};
  /// Output that has kept srv from reading a client (at or above output_high_water) for this
  /// long ends the connection: a client that does not read its replies; 0: no bound.
  milliseconds write_timeout{60'000};
  /// A request arriving, and a reply leaving, must average this rate after a grace period.
  MinRate min_rate{500, milliseconds{10'000}};
  /// After a close-after-flush, how long unread input is discarded before the socket is closed
  /// (so the peer reads our last reply instead of a reset).
  milliseconds linger_timeout{2'000};
  /// Bytes read from the socket in one call.
  std::size_t read_chunk = 64 * 1024;
  /// Bytes held for a handler that has not consumed them; more closes the connection.
  std::size_t max_input_buffer = 1024 * 1024;
  /// Stop reading (and stop feeding the handler) while this much output waits to be written.
  std::size_t output_high_water = 256 * 1024;
  /// Output held for one connection beyond this ends it at once, unsent (Redis's hard
  /// client-output-buffer-limit): a subscriber whose messages pile up unread, or one reply
  /// larger than this. Reading stops at output_high_water, so only replies pushed to a
  /// connection (on_wake) or a single large reply get here. 0: no bound.
  std::size_t max_output_bytes = 64 * 1024 * 1024;
};

struct ServerSettings {
  /// Cap on connections served at once (each strategy says what happens past it).
  int max_connections = 1024;
  /// How long open connections may finish after SIGTERM/SIGINT before they are closed.
  milliseconds shutdown_timeout{10'000};
  ConnectionLimits limits;
};

}  // namespace srv
