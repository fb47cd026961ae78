#include "server/listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/counters.h"

namespace srv {
namespace {

std::string port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET6) {
    return std::to_string(ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port));
  }
  return std::to_string(ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port));
}

bool is_wildcard(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET6) {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
    return IN6_IS_ADDR_UNSPECIFIED(&v6);
  }
  return reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr == htonl(INADDR_ANY);
}

}  // namespace

ListenSocket::ListenSocket(const Endpoint& endpoint, int backlog) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(endpoint.port);
  const char* host = endpoint.host.empty() ? nullptr : endpoint.host.c_str();
  std::string shown =
      format_endpoint(endpoint.host.empty() ? "0.0.0.0" : endpoint.host, endpoint.port);
  if (int rc = ::getaddrinfo(host, port.c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error(fmt::format("cannot resolve {}: {}", shown, ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) {
      fd_ = fd;
      break;
    }
    err = errno;
    ::close(fd);
  }
  if (fd_ < 0) throw std::system_error(err, std::generic_category(), "cannot listen on " + shown);
  describe(endpoint);
}

ListenSocket::ListenSocket(int inherited_fd, const Endpoint& endpoint) {
  int listening = 0;
  int type = 0;
  socklen_t len = sizeof listening;
  socklen_t type_len = sizeof type;
  if (::getsockopt(inherited_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
      ::getsockopt(inherited_fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || !listening ||
      type != SOCK_STREAM) {
    throw std::runtime_error(
        fmt::format("inherited descriptor {} is not a listening TCP socket", inherited_fd));
  }
  ::fcntl(inherited_fd, F_SETFD, FD_CLOEXEC);
  ::fcntl(inherited_fd, F_SETFL, ::fcntl(inherited_fd, F_GETFL) | O_NONBLOCK);
  fd_ = inherited_fd;
  describe(endpoint);
}

void ListenSocket::describe(const Endpoint& endpoint) {
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  std::string real_host = endpoint.host.empty() ? "0.0.0.0" : endpoint.host;
  address_ = format_endpoint(real_host, static_cast<std::uint16_t>(std::stoi(port_of(bound))));
  if (!is_wildcard(bound)) {
    // The address every connection arrives at, so none needs a getsockname.
    SocketAddress local;
    std::memcpy(&local.storage, &bound, std::min<std::size_t>(len, sizeof local.storage));
    char text[kAddressTextSize];
    local_ = format_address(local, text);
  }
}

ListenSocket::~ListenSocket() {
  close_here();
}

void ListenSocket::close_here() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Listener::Listener(const Endpoint& endpoint, int backlog, std::string protocol_name,
                   std::shared_ptr<ProtocolFactory> protocol,
                   std::shared_ptr<TransportFactory> transport)
    : Listener(std::make_shared<ListenSocket>(endpoint, backlog), std::move(protocol_name),
               std::move(protocol), std::move(transport)) {}

Listener::Listener(std::shared_ptr<ListenSocket> socket, std::string protocol_name,
                   std::shared_ptr<ProtocolFactory> protocol,
                   std::shared_ptr<TransportFactory> transport)
    : socket_(std::move(socket)),
      protocol_name_(std::move(protocol_name)),
      protocol_(std::move(protocol)),
      transport_(std::move(transport)) {}

std::unique_ptr<Connection> Listener::make_connection(const AcceptedSocket& socket,
                                                      const ConnectionLimits& limits,
                                                      Doorbell* doorbell) const {
  char peer[kAddressTextSize];
  // A wildcard listener learns which of its addresses a client reached only from the socket.
  const std::string& known = socket_->local();
  std::string local = known.empty() ? local_address(socket.fd) : std::string();
  Connection::Origin origin{next_connection_id(), format_address(socket.peer, peer),
                            known.empty() ? std::string_view(local) : known, metrics_,
                            access_log_.get()};
  return std::make_unique<Connection>(transport_->wrap(socket.fd), *protocol_, origin, doorbell,
                                      limits);
}

void Listener::refuse(int fd, RefuseReason reason) const {
  transport_->refuse(fd, protocol_->refusal());
  count_refused(metrics_, reason);
  std::uint64_t total = count(Counter::kRefused);
  if (log_allowed(Counter::kRefused)) {
    static constexpr const char* kWhy[] = {"max_connections reached", "threadpool queue is full",
                                           "descriptor beyond what the poller can watch",
                                           "cannot start a process or thread"};
    spdlog::warn("refused a connection on {}: {} ({} refused so far)", address(),
                 kWhy[static_cast<std::size_t>(reason)], total);
  }
}

}  // namespace srv
