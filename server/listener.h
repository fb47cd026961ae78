#pragma once

#include <memory>
#include <string>

#include "server/access_log.h"
#include "server/connection.h"
#include "server/metrics.h"
#include "server/protocol.h"
#include "server/settings.h"
#include "server/socket.h"
#include "server/transport.h"

namespace srv {

class Doorbell;

/// One bound, listening socket. Owned by the master, which keeps it open across reloads while
/// generations come and go (each with its own Listener over it). The fd is non-blocking and
/// close-on-exec; nobody but its owner closes it.
class ListenSocket {
 public:
  /// Binds and listens (SO_REUSEADDR). Throws std::system_error with the address on failure.
  ListenSocket(const Endpoint& endpoint, int backlog);
  /// Adopts a listening socket inherited across exec (a binary upgrade), which it now owns:
  /// made non-blocking and close-on-exec again. Throws std::runtime_error, closing nothing, if
  /// `fd` is not a listening stream socket.
  ListenSocket(int inherited_fd, const Endpoint& endpoint);
  ~ListenSocket();
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;

  int fd() const { return fd_; }
  /// "HOST:PORT" with the port actually bound (useful when the config said :0).
  const std::string& address() const { return address_; }
  /// Numeric "HOST:PORT" connections arrive at; empty for a wildcard address.
  const std::string& local() const { return local_; }
  /// Closes this process's copy (a generation's process, for sockets it does not serve).
  void close_here();

 private:
  /// Fills address_ and local_ from the bound socket.
  void describe(const Endpoint& endpoint);

  int fd_ = -1;
  std::string address_;
  std::string local_;
};

/// A listening socket bound to the protocol it serves and the transport (plain or TLS) its
/// connections get, for one generation: a reload makes new Listeners over the same sockets.
/// Strategies poll and accept on fd() but never close it.
class Listener {
 public:
  /// Binds a socket of its own (tests, and a listener no generation shares).
  Listener(const Endpoint& endpoint, int backlog, std::string protocol_name,
           std::shared_ptr<ProtocolFactory> protocol, std::shared_ptr<TransportFactory> transport);
  /// Over a socket the master keeps.
  Listener(std::shared_ptr<ListenSocket> socket, std::string protocol_name,
           std::shared_ptr<ProtocolFactory> protocol, std::shared_ptr<TransportFactory> transport);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int fd() const { return socket_->fd(); }
  /// "HOST:PORT" with the port actually bound (useful when the config said :0).
  const std::string& address() const { return socket_->address(); }
  const std::string& protocol_name() const { return protocol_name_; }
  /// The factory is shared by every thread and process of a generation; see ProtocolFactory.
  ProtocolFactory& protocol() const { return *protocol_; }
  /// Shared like protocol(); "tcp" or "tls".
  TransportFactory& transport() const { return *transport_; }

  /// The connection that serves a socket accepted here: its transport and a new handler, with a
  /// connection id and the peer and local addresses for the handler. Call on the thread that
  /// will drive it (any thread or forked process of the generation), giving that thread's
  /// `doorbell` (see Connection). Takes ownership of the socket.
  std::unique_ptr<Connection> make_connection(const AcceptedSocket& socket,
                                              const ConnectionLimits& limits,
                                              Doorbell* doorbell) const;

  /// Refuses a connection over capacity through the transport (the protocol's refusal on a plain
  /// socket, an alert on TLS), closes it, counts it and logs why (at most once a second, so a
  /// flood cannot flood the log). Any thread. Takes ownership of `fd`.
  void refuse(int fd, RefuseReason reason) const;

  /// Counts this listener's connections into `slot` (see metrics.h); nullptr (the default):
  /// not counted. Main thread, before serving.
  void count_into(ListenerSlot* slot) { metrics_ = slot; }
  /// Logs this listener's requests to `log` (nullptr, the default: no access log). Main thread,
  /// before serving.
  void log_access_to(std::shared_ptr<const AccessLog> log) { access_log_ = std::move(log); }

 private:
  std::shared_ptr<ListenSocket> socket_;
  std::string protocol_name_;
  std::shared_ptr<ProtocolFactory> protocol_;
  std::shared_ptr<TransportFactory> transport_;
  ListenerSlot* metrics_ = nullptr;
  std::shared_ptr<const AccessLog> access_log_;
};

}  // namespace srv
