#pragma once

#include <string>

namespace srv {

/// Logs go to stderr, one line per event, with the pid (strategies log from several processes).
/// Call again (a reload) to change the level.
void setup_logging(const std::string& level);

}  // namespace srv
