// thread: one thread per connection, each running the blocking session loop. Threads share the
// process (memory, fds), so a crash takes down every connection; the price per connection is a
// thread stack (stack_size) and a scheduler entity.

#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <set>
#include <vector>

#include "server/blocking_session.h"
#include "strategies/acceptor_loop.h"
#include "strategies/builtin.h"
#include "strategies/thread_util.h"

namespace srv {
namespace {

class ThreadStrategy final : public Strategy, private Dispatcher {
 public:
  explicit ThreadStrategy(std::size_t stack_size) : stack_size_(stack_size) {}

  void run(Generation& generation) override {
    generation_ = &generation;
    run_accept_loop(generation, *this);
    join_all();
  }

 private:
  void dispatch(const AcceptedSocket& socket, Listener& listener) override {
    std::unique_lock lock(mutex_);
    // Threads that finished but are not joined yet no longer hold a connection.
    std::size_t serving = running_.size() - finished_.size();
    if (serving >= static_cast<std::size_t>(generation_->settings().max_connections)) {
      lock.unlock();
      return listener.refuse(socket.fd, RefuseReason::kMaxConnections);
    }
    pthread_t thread;
    bool started = start_thread(thread, stack_size_, [this, socket, &listener] {
      serve_blocking(listener, socket, generation_->settings().limits,
                     generation_->life().stop_fd());
      std::lock_guard done_lock(mutex_);
      finished_.push_back(pthread_self());
      done_.notify();
    });
    if (!started) {
      lock.unlock();
      return listener.refuse(socket.fd, RefuseReason::kResources);
    }
    running_.insert(thread);
  }

  std::size_t live() const override {
    std::lock_guard lock(mutex_);
    return running_.size() - finished_.size();
  }

  void reap() override {
    done_.clear();
    std::vector<pthread_t> finished;
    {
      std::lock_guard lock(mutex_);
      finished.swap(finished_);
      for (pthread_t thread : finished) running_.erase(thread);
    }
    for (pthread_t thread : finished) pthread_join(thread, nullptr);  // they are already exiting
  }

  int done_fd() const override { return done_.fd(); }

  void stop_all() override { join_all(); }  // stopping: every session polls stop_fd and returns

  void join_all() {
    std::vector<pthread_t> all;
    {
      std::lock_guard lock(mutex_);
      all.assign(running_.begin(), running_.end());
      running_.clear();
      finished_.clear();
    }
    for (pthread_t thread : all) pthread_join(thread, nullptr);
  }

  std::size_t stack_size_;
  Generation* generation_ = nullptr;
  mutable std::mutex mutex_;
  std::set<pthread_t> running_;
  std::vector<pthread_t> finished_;  // exited sessions not joined yet
  DoneSignal done_;
};

}  // namespace

std::unique_ptr<Strategy> make_thread_strategy(Section& section, ServerSettings& settings,
                                               const Section& top) {
  (void)settings;
  (void)top;
  // Below 64 KiB a session's own frames (poll, a 16 KiB discard buffer) risk overflowing.
  std::int64_t min_stack = std::max<std::int64_t>(64 * 1024, PTHREAD_STACK_MIN);
  auto stack_size = section.bytes("stack_size", 256 * 1024, min_stack, 1LL << 30);
  return std::make_unique<ThreadStrategy>(static_cast<std::size_t>(stack_size));
}

}  // namespace srv
