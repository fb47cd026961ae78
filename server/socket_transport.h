#pragma once

#include <memory>

#include "server/transport.h"

namespace srv {

/// A plain TCP socket: recv/send/shutdown, nothing in between. Owns the fd.
class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) {}
  ~SocketTransport() override;
  SocketTransport(const SocketTransport&) = delete;
  SocketTransport& operator=(const SocketTransport&) = delete;

  int fd() const override { return fd_; }
  IoResult read(std::span<char> into) override;
  IoResult write(std::string_view bytes) override;
  IoResult shutdown_write() override;

 private:
  int fd_;
};

/// Wraps accepted sockets in SocketTransport; refuses by sending the refusal and closing.
/// Stateless, so thread-safe and fork-safe.
class SocketTransportFactory final : public TransportFactory {
 public:
  std::unique_ptr<Transport> wrap(int fd) override;
  void refuse(int fd, std::string_view refusal) override;
  std::string_view name() const override { return "tcp"; }
};

}  // namespace srv
