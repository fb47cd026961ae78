// Doorbells (server/doorbell.h): rings reach the enrolled connections from other threads and
// processes, batched per doorbell; a full queue falls back to the shared overflow table; post()
// runs functions on the owner thread, also through the event loops.

#include "server/doorbell.h"

#include <event2/event.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "server/generation.h"
#include "strategies/epoll_poller.h"
#include "strategies/event_loop.h"
#include "strategies/libevent_loop.h"

namespace srv {
namespace {

using namespace std::chrono_literals;

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// Every token drained until the doorbell stays quiet for `quiet_ms`.
std::set<int> drain_all(Doorbell& doorbell, int quiet_ms = 100) {
  std::set<int> tokens;
  std::vector<int> some;
  while (readable(doorbell.fd(), quiet_ms)) {
    doorbell.drain(some);
    tokens.insert(some.begin(), some.end());
  }
  doorbell.drain(some);  // the overflow table is read after every drain, readable or not
  tokens.insert(some.begin(), some.end());
  return tokens;
}

// Three connections enrolled (ids 1, 2, 3 as tokens 10, 20, 30), the rings of a case, and the
// tokens the doorbell then reports.
struct RingCase {
  const char* name;
  std::vector<std::uint64_t> rung;           // wake() each, in order
  std::vector<std::uint64_t> rung_together;  // wake_all() of these
  std::set<int> woken;
};

TEST(Doorbell, RingsReachTheEnrolledConnectionsOnce) {
  const std::vector<RingCase> cases = {
      {"one", {1}, {}, {10}},
      {"several rings coalesce", {2, 2, 2}, {}, {20}},
      {"wake_all", {}, {1, 3}, {10, 30}},
      {"wake_all with repeats", {}, {3, 1, 3, 1}, {10, 30}},
      {"both", {2}, {1, 3}, {10, 20, 30}},
      {"an id nobody enrolled is ignored", {99}, {}, {}},
      {"id 0 (post's) wakes nobody", {0}, {}, {}},
  };
  Doorbell doorbell(Doorbell::Open::kNow);
  std::vector<WakeAddress> addresses;
  for (std::uint64_t id : {1, 2, 3}) {
    addresses.push_back(doorbell.enrol(id, static_cast<int>(id) * 10));
    ASSERT_TRUE(addresses.back().valid());
    EXPECT_EQ(addresses.back().connection, id);
  }
  EXPECT_EQ(doorbell.enrol(1, 10), addresses[0]) << "the same address every time";
  for (const RingCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto address = [&](std::uint64_t id) {
      WakeAddress a = addresses[0];
      a.connection = id;
      return a;
    };
    for (std::uint64_t id : c.rung) wake(address(id));
    std::vector<WakeAddress> together;
    for (std::uint64_t id : c.rung_together) together.push_back(address(id));
    wake_all(together);
    EXPECT_EQ(drain_all(doorbell, 20), c.woken);
  }
  wake(WakeAddress{});  // not valid: nothing happens
  wake_all({});
  EXPECT_FALSE(readable(doorbell.fd(), 0));
}

TEST(Doorbell, AWithdrawnConnectionIsNotWoken) {
  Doorbell doorbell(Doorbell::Open::kNow);
  WakeAddress gone = doorbell.enrol(7, 70);
  WakeAddress stays = doorbell.enrol(8, 80);
  doorbell.withdraw(7);
  wake(gone);
  wake(stays);
  EXPECT_EQ(drain_all(doorbell, 20), std::set<int>{80});
}

TEST(Doorbell, OpensOnlyWhenAConnectionEnrols) {
  Doorbell doorbell(Doorbell::Open::kWhenNeeded);
  EXPECT_EQ(doorbell.fd(), -1) << "a blocking session that never parks costs no descriptor";
  std::vector<int> tokens;
  doorbell.drain(tokens);
  EXPECT_TRUE(tokens.empty());
  WakeAddress address = doorbell.enrol(5, 1);
  EXPECT_GE(doorbell.fd(), 0);
  wake(address);
  EXPECT_EQ(drain_all(doorbell, 20), std::set<int>{1});
}

TEST(Doorbell, AClosedDoorbellIsIgnored) {
  WakeAddress address;
  {
    Doorbell doorbell(Doorbell::Open::kNow);
    address = doorbell.enrol(5, 1);
  }
  wake(address);  // ECONNREFUSED: neither blocks nor throws
  wake_all(std::vector<WakeAddress>(3, address));
}

TEST(Doorbell, WakeFromAnotherThread) {
  Doorbell doorbell(Doorbell::Open::kNow);
  WakeAddress address = doorbell.enrol(11, 4);
  std::thread([address] { wake(address); }).join();
  ASSERT_TRUE(readable(doorbell.fd(), 2000));
  EXPECT_EQ(drain_all(doorbell, 20), std::set<int>{4});
}

// The number of datagrams queued on `fd` (read and dropped) and the ids they carried.
std::pair<int, std::size_t> read_datagrams(int fd) {
  int datagrams = 0;
  std::size_t ids = 0;
  std::uint64_t buffer[1024];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) {
    ++datagrams;
    ids += static_cast<std::size_t>(n) / sizeof buffer[0];
  }
  return {datagrams, ids};
}

// PUBLISH to many subscribers of one loop must not send a datagram each (queues are short).
TEST(Doorbell, WakeAllSendsFewDatagramsPerDoorbell) {
  Doorbell a(Doorbell::Open::kNow);
  Doorbell b(Doorbell::Open::kNow);
  std::vector<WakeAddress> to;
  for (std::uint64_t id = 1; id <= 600; ++id) {
    to.push_back(a.enrol(id, 0));
    if (id <= 5) to.push_back(b.enrol(1000 + id, 0));  // interleaved
  }
  wake_all(to);
  EXPECT_EQ(read_datagrams(a.fd()), std::make_pair(3, std::size_t{600}));  // 256 + 256 + 88
  EXPECT_EQ(read_datagrams(b.fd()), std::make_pair(1, std::size_t{5}));
}

int max_dgram_qlen() {
  std::ifstream in("/proc/sys/net/unix/max_dgram_qlen");
  int n = 512;
  in >> n;
  return std::clamp(n, 1, 100'000);
}

// Rings one connection until the doorbell's queue is full, then another (its datagram cannot be
// queued): the overflow table makes the owner wake every connection enrolled with it.
void flood_then_ring(const WakeAddress& flooded, const WakeAddress& last) {
  for (int i = 0; i < max_dgram_qlen() + 20; ++i) wake(flooded);
  wake(last);
}

TEST(Doorbell, AFullQueueWakesEveryEnrolledConnection) {
  Doorbell doorbell(Doorbell::Open::kNow);
  WakeAddress flooded = doorbell.enrol(1, 10);
  WakeAddress last = doorbell.enrol(2, 20);
  doorbell.enrol(3, 30);  // never rung: woken only by the overflow
  flood_then_ring(flooded, last);
  EXPECT_EQ(drain_all(doorbell), (std::set<int>{10, 20, 30}));
  wake(last);
  EXPECT_EQ(drain_all(doorbell, 20), std::set<int>{20}) << "the overflow was answered once";
}

TEST(Doorbell, WakeFromAnotherProcessEvenWhenTheQueueIsFull) {
  init_doorbells();  // the overflow table, shared with the child
  Doorbell doorbell(Doorbell::Open::kNow);
  WakeAddress flooded = doorbell.enrol(1, 10);
  WakeAddress last = doorbell.enrol(2, 20);
  doorbell.enrol(3, 30);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    flood_then_ring(flooded, last);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(drain_all(doorbell), (std::set<int>{10, 20, 30}));
}

TEST(Doorbell, PostRunsOnTheOwnerThreadInOrder) {
  Doorbell doorbell(Doorbell::Open::kNow);
  std::vector<int> ran;  // owner thread only: no lock
  std::thread poster([&doorbell, &ran] {
    for (int i = 0; i < 1000; ++i) doorbell.post([&ran, i] { ran.push_back(i); });
  });
  auto until = std::chrono::steady_clock::now() + 5s;
  while (ran.size() < 1000 && std::chrono::steady_clock::now() < until) {
    if (readable(doorbell.fd(), 100)) doorbell.answer([](int) {});
  }
  poster.join();
  ASSERT_EQ(ran.size(), 1000u) << "run only when the doorbell polled readable";
  EXPECT_TRUE(std::is_sorted(ran.begin(), ran.end()));
}

// post() on a running event loop from another thread: the posted function stops the loop, so
// run() returns only if the ring woke the loop's wait (nothing else would: no listener, no
// timer).
template <typename Loop>
void post_from_another_thread(Loop& loop, Generation& generation) {
  std::promise<std::thread::id> ran_on;
  std::thread::id loop_thread;
  std::thread runner([&] {
    loop_thread = std::this_thread::get_id();
    loop.run();
  });
  std::this_thread::sleep_for(50ms);  // let it wait
  int count = 0;                      // loop thread only
  for (int i = 0; i < 100; ++i) loop.post([&count] { ++count; });
  loop.post([&] {
    ran_on.set_value(std::this_thread::get_id());
    generation.life().begin_stop();
  });
  auto future = ran_on.get_future();
  if (future.wait_for(5s) != std::future_status::ready) {
    ADD_FAILURE() << "the posted function did not run: the loop was not woken";
    std::_Exit(1);  // the loop thread cannot be joined
  }
  runner.join();
  EXPECT_EQ(future.get(), loop_thread);
  EXPECT_EQ(count, 100);
}

TEST(EventLoop, PostFromAnotherThreadWakesTheLoop) {
  ServerSettings settings;
  Generation generation({}, settings, -1);
  EpollPoller poller(16);
  EventLoop loop(poller, generation);
  post_from_another_thread(loop, generation);
}

TEST(LibeventLoop, PostFromAnotherThreadWakesTheLoop) {
  ServerSettings settings;
  Generation generation({}, settings, -1);
  std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), event_base_free);
  ASSERT_NE(base, nullptr);
  LibeventLoop loop(base.get(), generation, 1 << 20);
  post_from_another_thread(loop, generation);
}

}  // namespace
}  // namespace srv
