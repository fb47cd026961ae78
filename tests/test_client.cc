#include "tests/test_client.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "tests/test_tls.h"

namespace srv::test {
namespace {

using Kind = Step::Kind;

std::string errno_text(int err) {
  return fmt::format("{} ({})", std::strerror(err), err);
}

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

/// A plain socket: every call is one system call.
class PlainStream final : public ClientStream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}
  ~PlainStream() override { ::close(fd_); }
  PlainStream(const PlainStream&) = delete;
  PlainStream& operator=(const PlainStream&) = delete;

  int fd() const override { return fd_; }

  Step read(std::span<char> into) override {
    ssize_t n = ::recv(fd_, into.data(), into.size(), MSG_DONTWAIT);
    if (n > 0) return Step::moved(static_cast<std::size_t>(n));
    if (n == 0) return Step::closed("EOF");
    return failed("recv", errno, false);
  }

  Step write(std::string_view bytes) override {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return Step::moved(static_cast<std::size_t>(n));
    return failed("send", errno, true);
  }

  Step shutdown_write() override {
    if (::shutdown(fd_, SHUT_WR) == 0) return Step::moved();
    return failed("shutdown(SHUT_WR)", errno, true);
  }

 private:
  static Step failed(const char* call, int err, bool writing) {
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
      return Step::blocked(writing);
    }
    std::string what = fmt::format("{}: {}", call, errno_text(err));
    if (err == ECONNRESET || err == EPIPE || err == ENOTCONN) return Step::closed(what);
    return Step::error(what);
  }

  int fd_;
};

/// What a pump() call is to achieve, besides sending the client's outbox.
struct Goal {
  std::string* in = nullptr;   ///< received bytes are appended here
  std::size_t read_limit = 0;  ///< read at most this many bytes (0: read nothing)
  bool until_data = false;     ///< done as soon as some bytes arrived
  bool until_closed = false;   ///< done when the server ends the connection
  bool shut_wr = false;        ///< end the sending direction once the outbox is empty
  Clock::time_point deadline = Clock::time_point::max();
  milliseconds idle = kIoTimeout;  ///< give up when no byte moved for this long
};

struct Outcome {
  std::string failure;  ///< "" or why it stopped short (a local error, time ran out)
  std::string closed;   ///< how the server ended the connection, if it did
  std::size_t sent = 0;
  std::size_t received = 0;
  bool timed_out = false;
  std::string stall;  ///< what the connection looked like once it had stalled a while
};

/// What a stalled connection looks like from here, to tell whose side the bytes wait on.
std::string describe_stall(ClientStream& stream, short events) {
  int unsent = -1;
  int unread = -1;
  ::ioctl(stream.fd(), SIOCOUTQ, &unsent);
  ::ioctl(stream.fd(), SIOCINQ, &unread);
  return fmt::format("waiting for{}{}; kernel queues: {} bytes unsent, {} unread{}",
                     events & POLLIN ? " readable" : "", events & POLLOUT ? " writable" : "",
                     unsent, unread, stream.has_pending() ? "; input pending in TLS" : "");
}

/// The one I/O loop of every helper: sends the outbox (then shuts down if asked) while reading
/// as the goal says, polling the socket for what the last blocked calls wait for, and not
/// polling while the stream holds decrypted input already.
class Pump {
 public:
  Pump(Client& client, const Goal& goal) : client_(client), stream_(client.stream()), goal_(goal) {}

  Outcome run() {
    shut_ = !goal_.shut_wr;
    progress_ = Clock::now();
    for (;;) {
      if (!out_.closed.empty() || (goal_.until_data && out_.received > 0)) return out_;
      if (client_.unsent().empty() && shut_ && !reading()) return out_;
      events_ = 0;
      moved_ = false;
      if (!send() || (reading() && !receive())) return out_;
      if (moved_) {
        progress_ = Clock::now();
      } else if (!(reading() && stream_.has_pending()) && !wait()) {
        return out_;
      }
    }
  }

 private:
  static constexpr std::size_t kMaxSend = 256 * 1024;
  static constexpr std::size_t kMaxRead = 64 * 1024;
  static constexpr int kStallNote = 5'000;

  bool reading() const {
    return goal_.until_data || goal_.until_closed || out_.received < goal_.read_limit;
  }

  void blocked(const Step& step) { events_ |= step.wants_write ? POLLOUT : POLLIN; }

  // Records how the connection ended; false.
  bool stop(const Step& step) {
    if (step.kind == Kind::kClosed) out_.closed = step.what;
    if (step.kind == Kind::kError) out_.failure = step.what;
    return false;
  }

  // The outbox, then the shutdown. False when the pump must stop.
  bool send() {
    if (!client_.unsent().empty()) {
      std::string_view rest = client_.unsent();
      Step step = stream_.write(rest.substr(0, std::min(kMaxSend, rest.size())));
      if (step.kind == Kind::kMoved) {
        client_.mark_sent(step.bytes);
        out_.sent += step.bytes;
        moved_ = moved_ || step.bytes > 0;
      } else if (step.kind == Kind::kWouldBlock) {
        blocked(step);
      } else {
        client_.drop_unsent();
        // The server is gone, but what it sent before may still be read (a refusal, an alert).
        if (step.kind == Kind::kError || !reading()) return stop(step);
      }
    } else if (!shut_) {
      Step step = stream_.shutdown_write();
      if (step.kind == Kind::kMoved) {
        shut_ = moved_ = true;
      } else if (step.kind == Kind::kWouldBlock) {
        blocked(step);
      } else {
        return stop(step);
      }
    }
    return true;
  }

  // One read into the goal's string. False when the pump must stop.
  bool receive() {
    const std::size_t room = goal_.until_data || goal_.until_closed
                                 ? kMaxRead
                                 : std::min(kMaxRead, goal_.read_limit - out_.received);
    std::string& in = *goal_.in;
    const std::size_t old = in.size();
    in.resize(old + room);
    Step step = stream_.read({in.data() + old, room});
    in.resize(old + (step.kind == Kind::kMoved ? step.bytes : 0));
    if (step.kind == Kind::kMoved) {
      out_.received += step.bytes;
      moved_ = true;
    } else if (step.kind == Kind::kWouldBlock) {
      blocked(step);
    } else {
      return stop(step);
    }
    return true;
  }

  // Polls for what the blocked calls wait for. False when time has run out or poll failed.
  bool wait() {
    const auto until = std::min(goal_.deadline, progress_ + goal_.idle);
    const int left = ms_left(until);
    if (left <= 0) {
      out_.timed_out = true;
      out_.failure = goal_.deadline <= progress_ + goal_.idle
                         ? "time ran out"
                         : fmt::format("no progress for {} ms", goal_.idle.count());
      return false;
    }
    pollfd p{stream_.fd(), events_, 0};
    int ready = ::poll(&p, 1, std::min(left, kStallNote));
    if (ready < 0 && errno != EINTR) {
      out_.failure = "poll: " + errno_text(errno);
      return false;
    }
    if (ready == 0 && out_.stall.empty() && Clock::now() - progress_ >= milliseconds(kStallNote)) {
      out_.stall = describe_stall(stream_, events_);
    }
    return true;
  }

  Client& client_;
  ClientStream& stream_;
  const Goal& goal_;
  Outcome out_;
  bool shut_ = false;
  Clock::time_point progress_;
  short events_ = 0;
  bool moved_ = false;
};

Outcome pump(Client& client, const Goal& goal) {
  return Pump(client, goal).run();
}

}  // namespace

const char* to_string(Wire wire) {
  return wire == Wire::kTls ? "tls" : "tcp";
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

// ---- Client ---------------------------------------------------------------------------------

Client::Client(Wire wire, std::unique_ptr<ClientStream> stream)
    : wire_(wire), stream_(std::move(stream)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

int Client::fd() const {
  return stream_->fd();
}

std::string Client::peer_alert() const {
  return stream_ ? stream_->peer_alert() : std::string();
}

void Client::reset() {
  stream_.reset();
  outbox_.clear();
  outbox_sent_ = 0;
}

void Client::abort() {
  if (!stream_) return;
  linger hard{1, 0};
  ::setsockopt(stream_->fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  reset();
}

void Client::post(std::string_view data) {
  if (outbox_sent_ == outbox_.size()) {
    outbox_.clear();
    outbox_sent_ = 0;
  }
  outbox_ += data;
}

std::string_view Client::unsent() const {
  return std::string_view(outbox_).substr(outbox_sent_);
}

void Client::mark_sent(std::size_t n) {
  outbox_sent_ += n;
}

void Client::drop_unsent() {
  outbox_.clear();
  outbox_sent_ = 0;
}

// ---- Connecting -----------------------------------------------------------------------------

Client connect_to(Wire wire, std::uint16_t port, milliseconds timeout, std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return Client();
  };
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return fail("socket: " + errno_text(errno));
  const int raw = fd.get();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(raw, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return fail("connect: " + errno_text(errno));
    auto deadline = Clock::now() + timeout;
    for (;;) {
      pollfd p{raw, POLLOUT, 0};
      int ready = ::poll(&p, 1, ms_left(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return fail("poll: " + errno_text(errno));
      if (ready == 0) {
        return fail(fmt::format("connect: not established within {} ms", timeout.count()));
      }
      break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(raw, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail("connect: " + errno_text(err));
  }
  int one = 1;
  ::setsockopt(raw, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (wire == Wire::kTcp) return Client(wire, std::make_unique<PlainStream>(fd.release()));
  std::string why;
  std::unique_ptr<ClientStream> tls = make_tls_stream(fd.release(), &why);
  if (!tls) return fail(why);
  return Client(wire, std::move(tls));
}

// ---- Helpers ----------------------------------------------------------------------------------

std::string send_all(Client& client, std::string_view data, milliseconds idle_timeout) {
  client.post(data);
  const std::size_t total = client.unsent().size();
  Goal goal;
  goal.idle = idle_timeout;
  Outcome out = pump(client, goal);
  if (!out.closed.empty()) out.failure = "connection closed by the server: " + out.closed;
  if (out.failure.empty()) return "";
  return fmt::format("send: {} after {} of {} bytes", out.failure, out.sent, total);
}

std::string send_some(Client& client, std::string_view data) {
  client.post(data);
  Goal goal;
  goal.deadline = Clock::now();
  Outcome out = pump(client, goal);
  if (out.timed_out) return "";
  return out.closed.empty() ? out.failure : "connection closed by the server: " + out.closed;
}

std::size_t send_until_stalled(Client& client, std::string_view data, milliseconds stall,
                               milliseconds limit) {
  client.post(data);
  Goal goal;
  goal.idle = stall;
  goal.deadline = Clock::now() + limit;
  Outcome out = pump(client, goal);
  client.drop_unsent();
  return out.sent;
}

std::string shutdown_write(Client& client, milliseconds idle_timeout) {
  Goal goal;
  goal.shut_wr = true;
  goal.idle = idle_timeout;
  Outcome out = pump(client, goal);
  if (!out.closed.empty()) return "shutdown: connection closed by the server: " + out.closed;
  return out.failure.empty() ? "" : "shutdown: " + out.failure;
}

std::string read_exactly(Client& client, std::size_t n, std::string& out,
                         milliseconds idle_timeout) {
  Goal goal;
  goal.in = &out;
  goal.read_limit = n;
  goal.idle = idle_timeout;
  Outcome result = pump(client, goal);
  if (result.received == n) return "";
  std::string why = !result.closed.empty() ? result.closed : result.failure;
  return fmt::format("read: {} after {} of {} bytes", why, result.received, n);
}

std::string transact(Client& client, std::string_view request, std::size_t reply_size,
                     std::string& reply, milliseconds idle_timeout, bool shut_wr) {
  client.post(request);
  const std::size_t to_send = client.unsent().size();
  reply.clear();
  reply.reserve(reply_size);
  Goal goal;
  goal.in = &reply;
  goal.read_limit = reply_size;
  goal.shut_wr = shut_wr;
  goal.idle = idle_timeout;
  Outcome out = pump(client, goal);
  if (out.failure.empty() && out.closed.empty()) return "";
  const std::string state =
      fmt::format("sent {} of {} bytes, received {} of {}{}", out.sent, to_send, out.received,
                  reply_size, out.stall.empty() ? "" : "; stalled: " + out.stall);
  if (!out.closed.empty()) {
    return fmt::format("connection closed by the server: {} ({})", out.closed, state);
  }
  return fmt::format("{} ({})", out.failure, state);
}

std::string expect_closed_by_peer(Client& client, milliseconds timeout, std::string* received) {
  std::string got;
  Goal goal;
  goal.in = received ? received : &got;
  goal.until_closed = true;
  goal.deadline = Clock::now() + timeout;
  goal.idle = timeout;
  Outcome out = pump(client, goal);
  if (out.timed_out) {
    return fmt::format(
        "the server did not close the connection within {} ms{}", timeout.count(),
        got.empty() ? std::string() : fmt::format(" (and sent {} unexpected bytes)", got.size()));
  }
  if (!out.failure.empty()) return out.failure;
  if (!got.empty()) return fmt::format("received {} unexpected bytes before the close", got.size());
  return "";
}

PeerActivity watch_peer(Client& client, milliseconds timeout, std::string& data) {
  Goal goal;
  goal.in = &data;
  goal.until_data = true;
  goal.deadline = Clock::now() + timeout;
  goal.idle = timeout;
  Outcome out = pump(client, goal);
  if (out.received > 0) return PeerActivity::kData;
  return out.timed_out ? PeerActivity::kSilent : PeerActivity::kClosed;
}

const char* to_string(PeerActivity activity) {
  switch (activity) {
    case PeerActivity::kSilent:
      return "silent";
    case PeerActivity::kData:
      return "data";
    case PeerActivity::kClosed:
      return "closed";
  }
  return "?";
}

std::uint16_t local_port(const Client& client) {
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ::getsockname(client.fd(), reinterpret_cast<sockaddr*>(&local), &len);
  return ntohs(local.sin_port);
}

}  // namespace srv::test
