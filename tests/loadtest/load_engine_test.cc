// The load engine against small servers made to misbehave: one that stalls for a second (the
// open loop must charge the stall to every request that was due meanwhile, the closed loop only
// to the one in flight), one that hangs up, and no server at all.
#include "loadtest/load_engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <thread>

namespace srv::loadtest {
namespace {

using namespace std::chrono_literals;

// An echo server on one thread, one connection at a time. After `stall_after` of serving it
// stops answering for `stall` once; with `hang_up_after` > 0 it closes each connection after
// that many reads.
class MisbehavingServer {
 public:
  MisbehavingServer(std::chrono::milliseconds stall_after, std::chrono::milliseconds stall,
                    int hang_up_after = 0)
      : stall_after_(stall_after), stall_(stall), hang_up_after_(hang_up_after) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listener_, 16), 0);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
  }
  ~MisbehavingServer() {
    thread_.request_stop();
    thread_.join();
    close(listener_);
  }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  bool wait_readable(int fd, const std::stop_token& stop) {
    pollfd p{fd, POLLIN, 0};
    while (!stop.stop_requested()) {
      if (poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }

  void serve(const std::stop_token& stop) {
    bool stalled = false;
    std::chrono::steady_clock::time_point began{};
    while (wait_readable(listener_, stop)) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      if (began == std::chrono::steady_clock::time_point{})
        began = std::chrono::steady_clock::now();
      char buf[4096];
      for (int reads = 1; wait_readable(fd, stop); ++reads) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        if (!stalled && stall_.count() > 0 &&
            std::chrono::steady_clock::now() - began >= stall_after_) {
          stalled = true;
          std::this_thread::sleep_for(stall_);
        }
        if (write(fd, buf, static_cast<std::size_t>(n)) != n) break;
        if (hang_up_after_ > 0 && reads >= hang_up_after_) break;
      }
      close(fd);
    }
  }

  std::chrono::milliseconds stall_after_, stall_;
  int hang_up_after_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::jthread thread_;
};

// One connection of 32-byte echo messages against `port`, measured from the start, with
// `adjust` applied to the options.
RunResult run_echo(std::uint16_t port, double duration,
                   const std::function<void(LoadOptions&)>& adjust = {}) {
  LoadOptions o;
  o.port = port;
  o.connections = 1;
  o.duration = duration;
  o.warmup = 0;
  o.reply_timeout = 5;
  if (adjust) adjust(o);
  WorkloadOptions w;
  w.protocol = "echo";
  w.size = 32;
  return run_load(o, *make_workload(w), {});
}

// One second of stall in a three-second run. Closed loop: one request waits 1 s, the rest are
// fast, so p90 stays small and only the max shows it. Open loop at 1000 req/s: every request
// due during the stall waits for it (from 1 s down to 0), a third of the run, so p90 is
// hundreds of milliseconds. Without the correction both would look like the closed loop.
TEST(LoadEngine, OpenLoopChargesAStallToEveryRequestDueDuringIt) {
  MisbehavingServer closed_server(1000ms, 1000ms);
  const RunResult closed = run_echo(closed_server.port(), 3);
  EXPECT_EQ(closed.errors, 0u);
  EXPECT_GE(closed.latency.max_us, 900e3);
  EXPECT_LT(closed.latency.p90_us, 100e3);

  MisbehavingServer open_server(1000ms, 1000ms);
  const RunResult open = run_echo(open_server.port(), 3, [](LoadOptions& o) { o.rate = 1000; });
  EXPECT_EQ(open.errors, 0u);
  EXPECT_GE(open.latency.max_us, 900e3);
  EXPECT_GE(open.latency.p90_us, 300e3);
  // The schedule is kept: about 1000 requests a second were sent, stall or not.
  EXPECT_GE(open.requests, 2500u);
  EXPECT_LE(open.requests, 3100u);
}

TEST(LoadEngine, HangUpsWithRepliesOutstandingAreErrorsAndConnectionsReopen) {
  MisbehavingServer server(0ms, 0ms, /*hang_up_after=*/5);
  const RunResult r = run_echo(server.port(), 1);
  EXPECT_GT(r.error_kinds.count("closed"), 0u);
  EXPECT_GT(r.errors, 1u) << "the connection was reopened after each hang-up";
  EXPECT_GT(r.requests, 4u);
}

TEST(LoadEngine, RequestsPerConnectionOpensANewConnectionEachTime) {
  MisbehavingServer server(0ms, 0ms);
  const RunResult r =
      run_echo(server.port(), 0.5, [](LoadOptions& o) { o.requests_per_connection = 1; });
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.requests, 20u);
  EXPECT_GE(server.accepted(), static_cast<int>(r.requests)) << "one connection per request";
}

TEST(LoadEngine, NoServerIsConnectErrorsNotACrash) {
  LoadOptions o;
  o.port = 1;  // nothing listens on port 1 of loopback
  o.connections = 4;
  o.duration = 0.5;
  o.warmup = 0;
  WorkloadOptions w;
  w.protocol = "echo";
  const RunResult r = run_load(o, *make_workload(w), {});
  EXPECT_EQ(r.requests, 0u);
  EXPECT_GE(r.error_kinds.at("connect"), 4u);
}

TEST(LoadEngine, OptionsThatCannotWorkAreRefused) {
  WorkloadOptions w;
  w.protocol = "echo";
  const auto workload = make_workload(w);
  LoadOptions o;
  o.port = 9;
  o.connections = 2'000'000;
  EXPECT_THROW(run_load(o, *workload, {}), std::invalid_argument);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_max < 900'000) {  // as many connections as descriptors leaves none spare
    o.connections = static_cast<int>(limit.rlim_max);
    EXPECT_THROW(run_load(o, *workload, {}), std::invalid_argument);
  }
  o.connections = 2;
  o.requests_per_connection = -1;
  EXPECT_THROW(run_load(o, *workload, {}), std::invalid_argument);
  o.requests_per_connection = 0;
  o.duration = std::numeric_limits<double>::infinity();
  EXPECT_THROW(run_load(o, *workload, {}), std::invalid_argument);
  o.duration = 1;
  o.connections = 2;
  o.threads = 3;
  EXPECT_THROW(run_load(o, *workload, {}), std::invalid_argument);
  o.threads = 1;
  o.pipeline = 0;
  EXPECT_THROW(run_load(o, *workload, {}), std::invalid_argument);
}

}  // namespace
}  // namespace srv::loadtest
