#include "config/config.h"

namespace srv {

// What plain `srv` serves: an echo service on loopback under one epoll loop. Keys not written
// here take the defaults documented in config/srv.yaml.
const std::string& default_config_text() {
  static const std::string text = R"(strategy: epoll
listeners:
  - listen: 127.0.0.1:7000
    protocol: echo
)";
  return text;
}

}  // namespace srv
