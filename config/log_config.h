#pragma once

#include <memory>
#include <string>

#include "config/section.h"
#include "server/access_log.h"
#include "server/log.h"

namespace srv {

/// `log: {level: info, format: text, file: ""}` from the top level, or the older
/// `log_level: LEVEL` (a shorthand for log.level; a file giving both is refused at the later
/// one). A file is opened (created) here, relative to the config file's folder, so a path that
/// cannot be written is a config error at its key. Throws ConfigError.
LogSettings read_log(Section& top);

/// A listener's `access_log: PATH` (absent or "": none), opened now, written in `log`'s format.
/// Throws ConfigError at the key when the file cannot be opened.
std::shared_ptr<const AccessLog> read_access_log(Section& listener, const LogSettings& log,
                                                 const std::string& protocol);

}  // namespace srv
