#include "server/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace srv {

void setup_logging(const std::string& level) {
  // The unsynchronised-per-line stderr sink writes each line with one fwrite, so lines from
  // several processes do not interleave mid-line.
  // A reload calls this again: the logger stays, its level changes.
  auto logger = spdlog::get("srv");
  if (!logger) logger = spdlog::stderr_logger_mt("srv");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%l] [pid %P] %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace srv
