#pragma once

#include <memory>
#include <string>

#include "server/protocol.h"
#include "server/socket.h"

namespace srv {

/// One listening socket and the protocol it serves. Owned by the server, not by a strategy, so
/// that it outlives strategy generations (a reload keeps it open). The fd is non-blocking and
/// close-on-exec; strategies poll and accept on it but never close it.
class Listener {
 public:
  /// Binds and listens (SO_REUSEADDR). Throws std::system_error with the address on failure.
  Listener(const Endpoint& endpoint, int backlog, std::string protocol_name,
           std::shared_ptr<ProtocolFactory> protocol);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int fd() const { return fd_; }
  /// "HOST:PORT" with the port actually bound (useful when the config said :0).
  const std::string& address() const { return address_; }
  const std::string& protocol_name() const { return protocol_name_; }
  /// The factory is shared by every thread and process of a generation; see ProtocolFactory.
  ProtocolFactory& protocol() const { return *protocol_; }

 private:
  int fd_ = -1;
  std::string address_;
  std::string protocol_name_;
  std::shared_ptr<ProtocolFactory> protocol_;
};

}  // namespace srv
