// The shared keyspace: its data model, sharing across fork and threads, and recovery of the
// robust lock from a process killed while holding it.

#include "protocols/keyspace.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <boost/interprocess/exceptions.hpp>

#include "protocols/resp.h"
#include "tests/handler_driver.h"
#include "tests/resp_test_util.h"
#include "tests/test_context.h"

namespace srv {
namespace {

using test::bulk;
using test::cmd;
using test::integer;
using test::kOk;

constexpr std::size_t kOneMiB = 1024 * 1024;
constexpr std::int64_t kNow = 1'700'000'000'000;

std::string reply_to(ProtocolHandler& handler, std::string_view input) {
  test::HandlerDriver driver(handler);
  driver.feed(input);
  return driver.sent();
}

void store(Keyspace& keyspace, std::string_view key, std::string_view value) {
  auto access = keyspace.write();
  shm::String stored = access.make_string(value);
  Value* existing = access.find(key);
  (existing != nullptr ? *existing : access.insert(key)).assign_string(std::move(stored));
}

std::string load(Keyspace& keyspace, std::string_view key) {
  auto access = keyspace.read();
  Value* value = access.find(key);
  return value == nullptr ? "(nil)" : std::string(shm::view(value->string()));
}

// Waits for `pid` and returns its wait status.
int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// If taking the lock ever hangs, SIGALRM ends the test binary and the test fails instead of
// hanging CI.
class Watchdog {
 public:
  explicit Watchdog(unsigned seconds) { ::alarm(seconds); }
  ~Watchdog() { ::alarm(0); }
};

TEST(Keyspace, InsertFindEraseClear) {
  Keyspace keyspace(kOneMiB);
  store(keyspace, "a", "1");
  store(keyspace, "b", "2");
  store(keyspace, "a", "3");
  EXPECT_EQ(load(keyspace, "a"), "3");
  EXPECT_EQ(load(keyspace, "b"), "2");
  EXPECT_EQ(load(keyspace, "c"), "(nil)");
  {
    auto access = keyspace.write();
    EXPECT_EQ(access.size(), 2u);
    EXPECT_TRUE(access.erase("a"));
    EXPECT_FALSE(access.erase("a"));
    EXPECT_EQ(access.size(), 1u);
    access.clear();
    EXPECT_EQ(access.size(), 0u);
  }
}

TEST(Keyspace, KeysAreBinarySafe) {
  Keyspace keyspace(kOneMiB);
  const std::string key("k\0\r\n\xff", 5);
  store(keyspace, key, std::string("\0v", 2));
  EXPECT_EQ(load(keyspace, key), std::string("\0v", 2));
  EXPECT_EQ(load(keyspace, "k"), "(nil)");
}

TEST(Keyspace, ValuesSwitchBetweenStringAndList) {
  Keyspace keyspace(kOneMiB);
  auto access = keyspace.write();
  Value& value = access.insert("k");
  EXPECT_TRUE(value.is_string());
  value.make_list();
  ASSERT_TRUE(value.is_list());
  value.list().push_back(access.make_string("x"));
  EXPECT_EQ(value.list().size(), 1u);
  value.assign_string(access.make_string("s"));
  EXPECT_TRUE(value.is_string());
  EXPECT_EQ(shm::view(value.string()), "s");
}

TEST(Keyspace, ExpiredKeysAreInvisibleAndOnlyWritesRemoveThem) {
  Keyspace keyspace(kOneMiB);
  std::int64_t now = kNow;
  keyspace.set_clock_for_testing([&now] { return now; });
  {
    auto access = keyspace.write();
    Value& value = access.insert("k");
    value.expires_at_ms = kNow + 10;
  }
  now += 10;
  {
    auto access = keyspace.read();
    EXPECT_EQ(access.find("k"), nullptr);
    EXPECT_EQ(access.size(), 1u);  // a reader does not change the table
    EXPECT_EQ(access.count_expiring(), 1u);
  }
  {
    auto access = keyspace.write();
    EXPECT_EQ(access.find("k"), nullptr);
    EXPECT_EQ(access.size(), 0u);
  }
}

TEST(Keyspace, FullHeapThrowsAndStaysUsable) {
  Keyspace keyspace(Keyspace::kMinMemory);
  int stored = 0;
  try {
    for (; stored < 10000; ++stored)
      store(keyspace, "key" + std::to_string(stored), std::string(512, 'x'));
  } catch (const boost::interprocess::bad_alloc&) {
  }
  ASSERT_GT(stored, 10);
  ASSERT_LT(stored, 10000);
  EXPECT_EQ(load(keyspace, "key0"), std::string(512, 'x'));
  {
    auto access = keyspace.write();
    EXPECT_EQ(access.size(), static_cast<std::size_t>(stored));
    MemoryStats memory = access.memory();
    EXPECT_GT(memory.used, memory.capacity * 9 / 10);
    access.clear();
    EXPECT_LT(access.memory().used, memory.capacity / 10);
  }
  store(keyspace, "after", "ok");
  EXPECT_EQ(load(keyspace, "after"), "ok");
}

TEST(Keyspace, RejectsTooSmallASize) {
  EXPECT_THROW(Keyspace(Keyspace::kMinMemory - 1), std::invalid_argument);
}

TEST(KeyHash, DependsOnTheSeedAndHashesStoredAndLookedUpKeysAlike) {
  KeyHash seeded_a{1, 2};
  KeyHash seeded_b{3, 4};
  int equal = 0;
  for (int i = 0; i < 8; ++i) {
    std::string key = "key" + std::to_string(i);
    equal += seeded_a(key) == seeded_b(key) ? 1 : 0;
  }
  EXPECT_LT(equal, 8) << "the seed is not used";
  Keyspace keyspace(kOneMiB);
  auto access = keyspace.write();
  shm::String stored = access.make_string("some key");
  EXPECT_EQ(seeded_a(stored), seeded_a(std::string_view("some key")));
  EXPECT_NE(seeded_a(std::string_view("some key")), seeded_a(std::string_view("some kez")));
}

// ---- Across processes --------------------------------------------------------------------------

TEST(Keyspace, ChildWritesAreVisibleToTheParent) {
  RespFactory factory(RespSettings{});
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto handler = factory.create(test::test_context());
    bool ok = reply_to(*handler, cmd({"SET", "from-child", "hello"})) == kOk &&
              reply_to(*handler, cmd({"RPUSH", "list", "a", "b"})) == integer(2);
    ::_exit(ok ? 0 : 1);
  }
  int status = reap(pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto handler = factory.create(test::test_context());
  EXPECT_EQ(reply_to(*handler, cmd({"GET", "from-child"})), bulk("hello"));
  EXPECT_EQ(reply_to(*handler, cmd({"LRANGE", "list", "0", "-1"})), test::bulks({"a", "b"}));
  // And the other way: the parent's write after the fork reaches a new child.
  EXPECT_EQ(reply_to(*handler, cmd({"SET", "from-parent", "hi"})), kOk);
  pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child = factory.create(test::test_context());
    ::_exit(reply_to(*child, cmd({"GET", "from-parent"})) == bulk("hi") ? 0 : 1);
  }
  status = reap(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(Keyspace, ProcessesAndThreadsIncrementWithoutLosingUpdates) {
  RespFactory factory(RespSettings{});
  constexpr int kProcesses = 4;
  constexpr int kThreads = 3;
  constexpr int kIncrements = 500;
  auto work = [&factory] {
    auto handler = factory.create(test::test_context());
    std::string batch;
    for (int i = 0; i < 10; ++i) batch += cmd({"INCR", "counter"});
    for (int i = 0; i < kIncrements / 10; ++i) reply_to(*handler, batch);
  };
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) threads.emplace_back(work);
      for (auto& thread : threads) thread.join();
      ::_exit(0);
    }
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work);
  for (auto& thread : threads) thread.join();
  for (pid_t pid : children) {
    int status = reap(pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto handler = factory.create(test::test_context());
  EXPECT_EQ(reply_to(*handler, cmd({"GET", "counter"})),
            bulk(std::to_string((kProcesses + 1) * kThreads * kIncrements)));
}

// ---- A process killed while holding the lock -------------------------------------------------

enum class Held { kRead, kWrite };

// Forks a child that takes the lock (to read or to write, changing a key half-way in the latter
// case), tells the parent over a pipe, and waits; the parent SIGKILLs it there.
void kill_child_holding_lock(Keyspace& keyspace, Held held) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (held == Held::kWrite) {
      auto access = keyspace.write();
      access.insert("half-written");
      char ready = 'w';
      (void)!::write(pipe_fds[1], &ready, 1);
      ::pause();  // killed here, lock held, write in progress
    } else {
      auto access = keyspace.read();
      char ready = 'r';
      (void)!::write(pipe_fds[1], &ready, 1);
      ::pause();
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char ready = 0;
  ASSERT_EQ(::read(pipe_fds[0], &ready, 1), 1) << "the child never took the lock";
  ::close(pipe_fds[0]);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = reap(pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(KeyspaceRobustLock, KilledReaderLeavesDataIntact) {
  Keyspace keyspace(kOneMiB);
  store(keyspace, "kept", "yes");
  kill_child_holding_lock(keyspace, Held::kRead);
  Watchdog watchdog(20);
  EXPECT_EQ(load(keyspace, "kept"), "yes");  // would hang forever with a non-robust mutex
  EXPECT_EQ(keyspace.owner_deaths(), 1u);
  EXPECT_EQ(keyspace.resets(), 0u);
  store(keyspace, "after", "ok");  // the lock works normally again
  EXPECT_EQ(load(keyspace, "after"), "ok");
}

TEST(KeyspaceRobustLock, KilledWriterLeavesAnEmptyValidStore) {
  Keyspace keyspace(kOneMiB);
  store(keyspace, "before", "x");
  kill_child_holding_lock(keyspace, Held::kWrite);
  Watchdog watchdog(20);
  {
    auto access = keyspace.write();
    // The dead writer may have been anywhere in a change: the store was wiped, not trusted.
    EXPECT_EQ(access.size(), 0u);
    EXPECT_EQ(access.find("half-written"), nullptr);
  }
  EXPECT_EQ(keyspace.owner_deaths(), 1u);
  EXPECT_EQ(keyspace.resets(), 1u);
  store(keyspace, "after", "ok");
  EXPECT_EQ(load(keyspace, "after"), "ok");
}

TEST(KeyspaceRobustLock, OtherProcessesWaitingForTheLockGetIt) {
  // A second child blocks on the lock the first one holds; after the first is killed, the
  // waiter (not the parent) recovers it and finishes.
  RespFactory factory(RespSettings{});
  Keyspace& keyspace = factory.keyspace();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    ::close(pipe_fds[0]);
    auto access = keyspace.read();
    char ready = 'r';
    (void)!::write(pipe_fds[1], &ready, 1);
    ::pause();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  char ready = 0;
  ASSERT_EQ(::read(pipe_fds[0], &ready, 1), 1);
  ::close(pipe_fds[0]);
  pid_t waiter = ::fork();
  ASSERT_GE(waiter, 0);
  if (waiter == 0) {
    ::alarm(20);
    auto handler = factory.create(test::test_context());
    ::_exit(reply_to(*handler, cmd({"SET", "waited", "1"})) == kOk ? 0 : 1);
  }
  ::usleep(100 * 1000);  // let the waiter block on the lock
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  reap(holder);
  int status = reap(waiter);
  ASSERT_TRUE(WIFEXITED(status)) << "the waiter died: signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  Watchdog watchdog(20);
  EXPECT_EQ(load(keyspace, "waited"), "1");
}

}  // namespace
}  // namespace srv
