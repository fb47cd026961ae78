#include "loadtest/proc_sampler.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace srv::loadtest {
namespace {

constexpr std::size_t kTouchedBytes = 20u << 20;
constexpr std::uint64_t kMiB = 1u << 20;

double process_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

/// The child side: a process tree of known shape. Never returns; only _exit ends it, so that
/// no gtest state of the forked copy runs twice.
[[noreturn]] void run_tree(int ready_fd, int quit_fd) {
  pid_t grandchild = ::fork();
  if (grandchild < 0) ::_exit(2);
  if (grandchild == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) ::pause();
  }
  // Detached: the process only ever ends by _exit, which takes them along.
  for (int i = 0; i < 3; ++i) {
    std::thread([] {
      for (;;) ::pause();
    }).detach();
  }
  // mmap, not new: the compiler may elide an allocation that nothing reads back.
  void* memory =
      ::mmap(nullptr, kTouchedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) ::_exit(5);
  std::memset(memory, 1, kTouchedBytes);  // private pages: all of them count in PSS
  double start = process_cpu_seconds();
  volatile std::uint64_t spin = 0;
  while (process_cpu_seconds() - start < 0.2) spin = spin + 1;

  char byte = 'r';
  if (::write(ready_fd, &byte, 1) != 1) ::_exit(3);
  // The parent closes its end when it is done (or dies): then the grandchild goes too.
  while (::read(quit_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  ::kill(grandchild, SIGKILL);
  while (::waitpid(grandchild, nullptr, 0) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

/// Owns the forked tree: whatever the test asserts, the tree is gone afterwards.
class ProcessTree {
 public:
  ProcessTree() {
    int ready[2], quit[2];
    if (::pipe(ready) != 0 || ::pipe(quit) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(quit[1]);
      run_tree(ready[1], quit[0]);
    }
    ::close(ready[1]);
    ::close(quit[0]);
    ready_fd_ = ready[0];
    quit_fd_ = quit[1];
  }

  ~ProcessTree() {
    if (quit_fd_ >= 0) ::close(quit_fd_);
    if (ready_fd_ >= 0) ::close(ready_fd_);
    if (pid_ <= 0) return;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "tree status " << status;
  }

  pid_t pid() const { return pid_; }

  bool wait_ready() {
    char byte = 0;
    ssize_t n;
    while ((n = ::read(ready_fd_, &byte, 1)) < 0 && errno == EINTR) {
    }
    return n == 1;
  }

 private:
  pid_t pid_ = -1;
  int ready_fd_ = -1;
  int quit_fd_ = -1;
};

TEST(ProcessTreeSampler, SumsRootAndDescendants) {
  ProcessTree tree;
  ASSERT_GT(tree.pid(), 0);
  ASSERT_TRUE(tree.wait_ready());

  ProcessSample sample = ProcessTreeSampler(tree.pid()).sample();
  EXPECT_EQ(sample.processes, 2);
  EXPECT_GE(sample.threads, 5);  // main + 3 in the root, 1 in the grandchild
  EXPECT_GE(sample.pss_bytes, 20 * kMiB);
  EXPECT_GE(sample.rss_bytes, sample.pss_bytes);
  EXPECT_GE(sample.cpu_seconds, 0.1);
  EXPECT_GT(sample.context_switches, 0u);
}

TEST(ProcessTreeSampler, MissingRootIsEmpty) {
  // Above any pid_max the kernel allows, so certainly not a live process.
  ProcessSample sample = ProcessTreeSampler(std::numeric_limits<pid_t>::max()).sample();
  EXPECT_EQ(sample.processes, 0);
  EXPECT_EQ(sample.threads, 0);
  EXPECT_EQ(sample.rss_bytes, 0u);
  EXPECT_EQ(sample.pss_bytes, 0u);
  EXPECT_EQ(sample.cpu_seconds, 0.0);
  EXPECT_EQ(sample.context_switches, 0u);
}

TEST(ProcessTreeSampler, ReapedChildIsEmpty) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  EXPECT_EQ(ProcessTreeSampler(pid).sample().processes, 0);
}

}  // namespace
}  // namespace srv::loadtest
