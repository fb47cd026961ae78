// One load thread: an epoll loop over its share of the connections. Internal to load_engine.cc.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <vector>

#include "loadtest/histogram.h"
#include "loadtest/load_engine.h"
#include "loadtest/transport.h"

namespace srv::loadtest {

/// Monotonic nanoseconds, and one second of them.
std::int64_t now_ns();
constexpr std::int64_t kSecond = 1'000'000'000;

/// What a thread publishes for the engine; counters are read by the engine thread at any time.
struct ThreadStats {
  std::atomic<std::uint64_t> requests{0};  ///< measured replies
  std::atomic<std::uint64_t> replies{0};   ///< every reply, warm-up included (the live rate)
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<int> open{0};
  std::atomic<std::uint64_t> handshakes{0};  ///< TLS handshakes completed in the measured time
  std::atomic<std::uint64_t> resumed{0};     ///< of those, how many resumed a session
  std::mutex mutex;    ///< guards the four below; held by the thread for one batch of events
  Histogram interval;  ///< latencies (ns) since the engine last took them
  std::map<std::string, std::uint64_t> error_kinds;
  std::map<std::string, std::string> first_error;  ///< kind -> the first message of that kind
  std::string tls;  ///< the first completed handshake's protocol and cipher
};

/// Where to connect, resolved once by the engine.
struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};

/// Times every thread agrees on, in now_ns() terms.
struct Schedule {
  std::int64_t start = 0;          ///< first connection opens
  std::int64_t measure_start = 0;  ///< replies count from here
  std::int64_t end = 0;
};

class LoadThread {
 public:
  /// Serves connections first_index, first_index + stride, ... below options.connections,
  /// over TLS when `tls` is not null. Does not own `workload`, `tls` or `stop`; they outlive
  /// the thread.
  LoadThread(const LoadOptions& options, const Endpoint& endpoint, const Workload& workload,
             const TlsContext* tls, const Schedule& schedule, int first_index, int stride,
             const std::atomic<bool>* stop);
  ~LoadThread();

  /// The loop; returns at schedule.end or when *stop turns true. Call on the thread that owns it.
  /// Never throws: a failure is kept for failure() and ends this thread's part of the run.
  void run() noexcept;
  /// What ended run() early, if anything; read after the thread has been joined.
  std::exception_ptr failure() const { return failure_; }
  ThreadStats& stats() { return stats_; }

 private:
  struct Conn;
  enum class Event { kConnect, kSend };
  struct Timer {
    std::int64_t when;
    std::uint32_t conn;
    Event event;
    bool operator>(const Timer& o) const { return when > o.when; }
  };

  void loop();
  /// epoll_pwait2 (nanosecond timeout) where the kernel has it, else epoll_wait.
  int wait(std::vector<epoll_event>& events, std::int64_t timeout_ns);
  void fire_timers(std::int64_t now);
  void connect(Conn& c, std::int64_t now);
  void on_tcp_connected(Conn& c, std::int64_t now);
  void continue_handshake(Conn& c, std::int64_t now);
  void on_connected(Conn& c, std::int64_t now);
  void on_event(Conn& c, std::uint32_t events, std::int64_t now);
  bool read_replies(Conn& c, std::int64_t now);
  bool check_replies(Conn& c, std::string_view in, std::size_t& consumed, std::int64_t now);
  void send_due(Conn& c, std::int64_t now);
  void send_request(Conn& c, std::int64_t intended);
  bool may_send(const Conn& c) const;
  bool flush(Conn& c);
  void fail(Conn& c, const std::string& kind, const std::string& message, std::int64_t now);
  void close_conn(Conn& c, std::int64_t reconnect_at, bool clean = false);
  void check_timeouts(std::int64_t now);
  void want_write(Conn& c, bool on);
  /// Sets the epoll events of c.fd to `events`, adding it to the set the first time.
  void watch(Conn& c, std::uint32_t events);

  const LoadOptions& options_;
  Endpoint endpoint_;
  const Workload& workload_;
  Schedule schedule_;
  const std::atomic<bool>* stop_;
  std::int64_t interval_ns_ = 0;  ///< open loop: time between requests of one connection
  int epfd_ = -1;
  bool have_pwait2_ = true;
  ConnectionFactory factory_;  ///< before conns_: their transports go first
  std::vector<std::unique_ptr<Conn>> conns_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::vector<char> scratch_;
  ThreadStats stats_;
  std::exception_ptr failure_;
};

}  // namespace srv::loadtest
