#pragma once

#include <chrono>

namespace srv {

/// The one clock for deadlines and timeouts: monotonic, unaffected by wall-clock changes.
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace srv
