#pragma once

#include <string_view>

#include "config/section.h"
#include "server/settings.h"

namespace srv {

/// Like nginx's select module, refuses a config that select(2) could not serve: select watches
/// descriptors below FD_SETSIZE only, and the process holds some of those itself. Lowers
/// max_connections to fit when the user did not set it; otherwise a larger value is a ConfigError
/// at `max_connections` naming `who` ("strategy select") and what to use instead.
void fit_max_connections_to_fd_setsize(ServerSettings& settings, const Section& top,
                                       std::string_view who, std::string_view instead);

}  // namespace srv
