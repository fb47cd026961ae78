#pragma once

#include "config/config.h"

namespace srv {

/// Binds every listener (owned here, so they outlive a strategy generation), logs one
/// "listening on HOST:PORT protocol=P strategy=S" line each, and runs the configured strategy
/// until shutdown. Call from the main thread before any other thread exists. Returns the exit
/// code: 0 after a clean shutdown, 1 when a listener cannot be opened.
int run_server(Config& config);

}  // namespace srv
