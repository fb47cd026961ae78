#include "loadtest/load_thread.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>

#include <fmt/format.h>

namespace srv::loadtest {
namespace {

constexpr std::int64_t kTick = kSecond / 10;              // longest sleep: stop flag and end checks
constexpr std::int64_t kRetryAfterError = kSecond / 100;  // a broken connection is reopened after
constexpr std::int64_t kRetryConnect = kSecond / 10;      // a refused connect waits longer
constexpr std::size_t kScratch = 64 * 1024;
constexpr int kReadsPerEvent = 8;  // then other connections get their turn

timespec to_timespec(std::int64_t ns) {
  return {static_cast<time_t>(ns / kSecond), static_cast<long>(ns % kSecond)};
}

}  // namespace

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * kSecond + ts.tv_nsec;
}

struct LoadThread::Conn {
  std::uint32_t slot = 0;
  std::uint64_t index = 0;  // connection number across all threads
  int fd = -1;
  std::uint32_t events = 0;       // what epoll watches on fd; 0 = fd is not in the set
  bool connecting = false;        // TCP connect in progress
  bool handshaking = false;       // connected, transport handshake in progress
  bool read_wants_write = false;  // the transport can read on only once the socket is writable
  bool send_timer = false;
  bool open = false;  // handshake done, counted in stats_.open
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Conversation> conversation;
  std::string out;
  std::size_t out_sent = 0;
  std::string in;                // the start of a reply that has not fully arrived
  std::deque<std::int64_t> due;  // when each outstanding request was due (= sent, closed loop)
  std::int64_t next_due = 0;     // open loop: the next request's slot in the schedule
  std::int64_t waiting_since = 0;
  int sent_here = 0;      // requests sent on this connection since it opened
  int answered_here = 0;  // and replies received
};

LoadThread::LoadThread(const LoadOptions& options, const Endpoint& endpoint,
                       const Workload& workload, const TlsContext* tls, const Schedule& schedule,
                       int first_index, int stride, const std::atomic<bool>* stop)
    : options_(options),
      endpoint_(endpoint),
      workload_(workload),
      schedule_(schedule),
      stop_(stop),
      factory_(tls),
      scratch_(kScratch) {
  if (options.rate > 0) {
    interval_ns_ = static_cast<std::int64_t>(static_cast<double>(kSecond) * options.connections /
                                             options.rate);
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::runtime_error(fmt::format("epoll_create1: {}", std::strerror(errno)));
  for (int i = first_index; i < options.connections; i += stride) {
    auto c = std::make_unique<Conn>();
    c->slot = static_cast<std::uint32_t>(conns_.size());
    c->index = static_cast<std::uint64_t>(i);
    c->conversation = workload.start(c->index);
    const auto ramp = static_cast<std::int64_t>(options.ramp * kSecond);
    timers_.push({schedule.start + ramp * i / options.connections, c->slot, Event::kConnect});
    conns_.push_back(std::move(c));
  }
}

LoadThread::~LoadThread() {
  for (auto& c : conns_) {
    c->transport.reset();  // before its socket
    if (c->fd >= 0) ::close(c->fd);
  }
  if (epfd_ >= 0) ::close(epfd_);
}

void LoadThread::run() noexcept {
  // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a server that hung up would raise
  // SIGPIPE. Blocked on this thread, it stays pending here (and goes with the thread) while
  // the write fails with EPIPE, as a plain send does.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  try {
    loop();
  } catch (...) {
    failure_ = std::current_exception();  // the engine rethrows it once every thread has ended
  }
}

void LoadThread::loop() {
  std::vector<epoll_event> events(512);
  std::int64_t next_check = schedule_.start + kSecond;
  for (;;) {
    std::int64_t now = now_ns();
    if (now >= schedule_.end || (stop_ && stop_->load(std::memory_order_relaxed))) break;
    std::int64_t wake = std::min(schedule_.end, now + kTick);
    if (!timers_.empty()) wake = std::min(wake, timers_.top().when);
    const int n = wait(events, std::max<std::int64_t>(0, wake - now));
    if (n < 0 && errno != EINTR)
      throw std::runtime_error(fmt::format("epoll: {}", std::strerror(errno)));
    std::lock_guard lock(stats_.mutex);
    now = now_ns();
    for (int i = 0; i < n; ++i) on_event(*conns_[events[i].data.u32], events[i].events, now);
    fire_timers(now);
    if (now >= next_check) {
      check_timeouts(now);
      next_check = now + kSecond;
    }
  }
  std::lock_guard lock(stats_.mutex);
  check_timeouts(now_ns());
}

int LoadThread::wait(std::vector<epoll_event>& events, std::int64_t timeout_ns) {
  const int size = static_cast<int>(events.size());
  if (have_pwait2_) {
    const timespec timeout = to_timespec(timeout_ns);
    const int n = epoll_pwait2(epfd_, events.data(), size, &timeout, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    have_pwait2_ = false;  // kernels before 5.11: whole milliseconds will do
  }
  return epoll_wait(epfd_, events.data(), size,
                    static_cast<int>((timeout_ns + kSecond / 1000 - 1) / (kSecond / 1000)));
}

void LoadThread::fire_timers(std::int64_t now) {
  while (!timers_.empty() && timers_.top().when <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    Conn& c = *conns_[t.conn];
    if (t.event == Event::kConnect) {
      if (c.fd < 0) connect(c, now);
    } else {
      c.send_timer = false;
      if (c.open) {
        send_due(c, now);
        flush(c);
      }
    }
  }
}

void LoadThread::connect(Conn& c, std::int64_t now) {
  c.fd = ::socket(endpoint_.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    fail(c, "connect", fmt::format("socket: {}", std::strerror(errno)), now);
    return;
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c.waiting_since = now;  // connect and handshake together must finish within the timeout
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&endpoint_.address), endpoint_.length) ==
      0) {
    on_tcp_connected(c, now);
    return;
  }
  if (errno != EINPROGRESS) {
    fail(c, "connect", std::strerror(errno), now);
    return;
  }
  c.connecting = true;
  watch(c, EPOLLOUT);
}

void LoadThread::on_tcp_connected(Conn& c, std::int64_t now) {
  c.connecting = false;
  c.transport = factory_.open(c.fd);
  c.handshaking = true;
  continue_handshake(c, now);
}

void LoadThread::continue_handshake(Conn& c, std::int64_t now) {
  switch (c.transport->handshake().status) {
    case Io::kDone:
      break;
    case Io::kWantRead:
      watch(c, EPOLLIN);
      return;
    case Io::kWantWrite:
      watch(c, EPOLLIN | EPOLLOUT);
      return;
    default:
      fail(c, "tls", c.transport->error(), now);
      return;
  }
  c.handshaking = false;
  if (factory_.tls()) {
    if (now >= schedule_.measure_start) {
      stats_.handshakes.fetch_add(1, std::memory_order_relaxed);
      if (c.transport->resumed()) stats_.resumed.fetch_add(1, std::memory_order_relaxed);
    }
    if (stats_.tls.empty()) stats_.tls = c.transport->describe();
  }
  on_connected(c, now);
}

void LoadThread::on_connected(Conn& c, std::int64_t now) {
  watch(c, EPOLLIN);
  stats_.open.fetch_add(1, std::memory_order_relaxed);
  c.open = true;
  if (interval_ns_ == 0) {
    for (int i = 0; i < options_.pipeline && may_send(c); ++i) send_request(c, now);
  } else {
    // Spread the connections' schedules over one interval so the rate is even, not bursty. A
    // reopened connection keeps its schedule: what fell due meanwhile is sent now and charged
    // from when it was due.
    if (c.next_due == 0) {
      c.next_due = now + interval_ns_ * static_cast<std::int64_t>(c.index) / options_.connections;
    }
    send_due(c, now);
  }
  flush(c);
}

void LoadThread::on_event(Conn& c, std::uint32_t events, std::int64_t now) {
  if (c.fd < 0) return;  // closed by an earlier event of this batch
  if (c.connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(c, "connect", std::strerror(err), now);
    } else {
      on_tcp_connected(c, now);
    }
    return;
  }
  if (c.handshaking) {
    continue_handshake(c, now);
    return;
  }
  const bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
  const bool writable = (events & EPOLLOUT) != 0;
  if ((readable || (writable && c.read_wants_write)) && !read_replies(c, now)) return;
  if (writable) flush(c);
}

bool LoadThread::read_replies(Conn& c, std::int64_t now) {
  c.read_wants_write = false;
  // Bytes the transport already holds (TLS records read ahead) wake no epoll: read them all.
  for (int i = 0; i < kReadsPerEvent || c.transport->buffered(); ++i) {
    const IoResult r = c.transport->read(scratch_.data(), scratch_.size());
    if (r.status == Io::kWantRead) break;
    if (r.status == Io::kWantWrite) {
      c.read_wants_write = true;  // on_event reads again once the socket is writable
      break;
    }
    if (r.status == Io::kClosed) {
      if (!c.due.empty()) {
        fail(c, "closed",
             fmt::format("server closed the connection with {} replies outstanding", c.due.size()),
             now);
      } else {
        close_conn(c, now, /*clean=*/true);
      }
      return false;
    }
    if (r.status != Io::kDone) {
      fail(c, r.status == Io::kTlsError ? "tls" : "read", c.transport->error(), now);
      return false;
    }
    const std::size_t got = r.bytes;
    if (now >= schedule_.measure_start) {
      stats_.bytes_received.fetch_add(got, std::memory_order_relaxed);  // same window as replies
    }
    std::size_t consumed = 0;
    if (c.in.empty()) {
      // The usual case: whole replies in one read, checked where they landed, never copied.
      if (!check_replies(c, {scratch_.data(), got}, consumed, now)) return false;
      c.in.assign(scratch_.data() + consumed, got - consumed);
    } else {
      c.in.append(scratch_.data(), got);
      if (!check_replies(c, c.in, consumed, now)) return false;
      c.in.erase(0, consumed);
    }
    if (got < scratch_.size() && !c.transport->buffered()) break;
  }
  if (interval_ns_ > 0) send_due(c, now);
  return flush(c);
}

bool LoadThread::check_replies(Conn& c, std::string_view in, std::size_t& consumed,
                               std::int64_t now) {
  std::uint64_t counted = 0, replies = 0;
  // The replies verified so far count, whatever happens to the connection after them.
  const auto publish = [&] {
    if (replies) stats_.replies.fetch_add(replies, std::memory_order_relaxed);
    if (counted) stats_.requests.fetch_add(counted, std::memory_order_relaxed);
  };
  while (consumed < in.size()) {
    if (c.due.empty()) {
      publish();
      fail(c, "bad reply", "bytes arrived with no request outstanding", now);
      return false;
    }
    ReplyCheck check = c.conversation->check_reply(in.substr(consumed));
    if (check.status == ReplyStatus::kIncomplete) break;
    if (check.status == ReplyStatus::kBad) {
      publish();
      fail(c, "bad reply", check.why, now);
      return false;
    }
    consumed += check.consumed;
    ++replies;
    if (now >= schedule_.measure_start) {
      stats_.interval.record(static_cast<std::uint64_t>(now - c.due.front()));
      ++counted;
    }
    c.due.pop_front();
    c.waiting_since = now;
    if (++c.answered_here == options_.requests_per_connection) {
      publish();
      close_conn(c, now, /*clean=*/true);  // done with it, as a client without keep-alive
      return false;
    }
    if (interval_ns_ == 0 && may_send(c)) send_request(c, now);
  }
  publish();
  return true;
}

void LoadThread::send_due(Conn& c, std::int64_t now) {
  const auto window = static_cast<std::size_t>(options_.pipeline);
  while (c.due.size() < window && c.next_due <= now && may_send(c)) {
    send_request(c, c.next_due);
    c.next_due += interval_ns_;
  }
  // A full window waits for a reply (which calls send_due); otherwise wake at the next slot.
  if (c.due.size() < window && !c.send_timer && may_send(c)) {
    timers_.push({c.next_due, c.slot, Event::kSend});
    c.send_timer = true;
  }
}

bool LoadThread::may_send(const Conn& c) const {
  return options_.requests_per_connection == 0 || c.sent_here < options_.requests_per_connection;
}

void LoadThread::send_request(Conn& c, std::int64_t due) {
  ++c.sent_here;
  if (c.due.empty()) c.waiting_since = due;
  c.conversation->write_request(c.out);
  c.due.push_back(due);
}

bool LoadThread::flush(Conn& c) {
  while (c.out_sent < c.out.size()) {
    const IoResult r = c.transport->write(c.out.data() + c.out_sent, c.out.size() - c.out_sent);
    if (r.status == Io::kDone) {
      c.out_sent += r.bytes;
      if (now_ns() >= schedule_.measure_start) {
        stats_.bytes_sent.fetch_add(r.bytes, std::memory_order_relaxed);
      }
    } else if (r.status == Io::kWantWrite) {
      want_write(c, true);
      return true;
    } else if (r.status == Io::kWantRead) {
      return true;  // EPOLLIN is always watched; read_replies flushes after reading
    } else {
      fail(c, r.status == Io::kTlsError ? "tls" : "write", c.transport->error(), now_ns());
      return false;
    }
  }
  c.out.clear();
  c.out_sent = 0;
  want_write(c, false);
  return true;
}

void LoadThread::want_write(Conn& c, bool on) {
  watch(c, on || c.read_wants_write ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

void LoadThread::watch(Conn& c, std::uint32_t events) {
  if (c.events == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u32 = c.slot;
  epoll_ctl(epfd_, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
  c.events = events;
}

void LoadThread::fail(Conn& c, const std::string& kind, const std::string& message,
                      std::int64_t now) {
  stats_.errors.fetch_add(1, std::memory_order_relaxed);
  ++stats_.error_kinds[kind];
  stats_.first_error.emplace(kind, message);
  close_conn(c, now + (kind == "connect" ? kRetryConnect : kRetryAfterError));
}

void LoadThread::close_conn(Conn& c, std::int64_t reconnect_at, bool clean) {
  if (c.fd >= 0) {
    if (c.open) stats_.open.fetch_sub(1, std::memory_order_relaxed);
    // A TLS session is resumable later only if the connection was shut down, not dropped.
    if (clean && c.open) c.transport->shutdown();
    c.transport.reset();
    ::close(c.fd);  // also leaves the epoll set
  }
  c.fd = -1;
  c.events = 0;
  c.connecting = c.handshaking = c.read_wants_write = c.open = false;
  c.in.clear();
  c.out.clear();
  c.out_sent = 0;
  c.due.clear();
  c.sent_here = c.answered_here = 0;
  c.conversation->reset();
  if (reconnect_at < schedule_.end) timers_.push({reconnect_at, c.slot, Event::kConnect});
}

void LoadThread::check_timeouts(std::int64_t now) {
  const auto limit = static_cast<std::int64_t>(options_.reply_timeout * kSecond);
  for (auto& c : conns_) {
    if (c->fd < 0 || now - c->waiting_since <= limit) continue;
    if (c->connecting) {
      fail(*c, "connect", fmt::format("no answer to connect in {} s", options_.reply_timeout), now);
    } else if (c->handshaking) {
      fail(*c, "tls", fmt::format("no TLS handshake in {} s", options_.reply_timeout), now);
    } else if (!c->due.empty()) {
      fail(*c, "timeout", fmt::format("no reply in {} s", options_.reply_timeout), now);
    }
  }
}

}  // namespace srv::loadtest
