// threadpool: the main thread accepts and puts connections on a bounded queue; a fixed set of
// worker threads takes them off and serves each to the end with the blocking session loop.
// Memory is bounded by `threads`, but an idle client holds a worker until idle_timeout: with N
// slow clients, every other client waits. A full queue (or max_connections) refuses, counted.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "server/blocking_session.h"
#include "server/socket.h"
#include "strategies/acceptor_loop.h"
#include "strategies/builtin.h"
#include "strategies/thread_util.h"

namespace srv {
namespace {

struct PoolSettings {
  int threads = 4;
  int queue_size = 1024;
};

class ThreadPoolStrategy final : public Strategy, private Dispatcher {
 public:
  explicit ThreadPoolStrategy(PoolSettings own) : own_(own) {}

  void run(Generation& generation) override {
    generation_ = &generation;
    exiting_ = false;
    for (int i = 0; i < own_.threads; ++i) {
      pthread_t thread;
      if (start_thread(thread, 0, [this] { work(); })) workers_.push_back(thread);
    }
    if (workers_.empty()) {
      generation.life().begin_stop();
    } else {
      run_accept_loop(generation, *this);
    }
    shut_down_workers();
  }

 private:
  struct Job {
    AcceptedSocket socket;
    Listener* listener;
  };

  void dispatch(const AcceptedSocket& socket, Listener& listener) override {
    std::unique_lock lock(mutex_);
    std::optional<RefuseReason> why;
    if (live_ >= static_cast<std::size_t>(generation_->settings().max_connections)) {
      why = RefuseReason::kMaxConnections;
    } else if (queue_.size() >= static_cast<std::size_t>(own_.queue_size)) {
      why = RefuseReason::kQueueFull;
    }
    if (why) {
      lock.unlock();
      return listener.refuse(socket.fd, *why);
    }
    queue_.push_back({socket, &listener});
    ++live_;
    lock.unlock();
    ready_.notify_one();
  }

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty() || exiting_; });
        if (queue_.empty()) return;  // exiting and nothing left to serve
        job = queue_.front();
        queue_.pop_front();
      }
      serve_blocking(*job.listener, job.socket, generation_->settings().limits,
                     generation_->life().stop_fd());
      {
        std::lock_guard lock(mutex_);
        --live_;
      }
      done_.notify();
    }
  }

  std::size_t live() const override {
    std::lock_guard lock(mutex_);
    return live_;
  }
  void reap() override { done_.clear(); }
  int done_fd() const override { return done_.fd(); }

  void stop_all() override {
    // Stopping: sessions in progress see stop_fd and end; queued ones are closed unserved.
    std::deque<Job> dropped;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(queue_);
      live_ -= dropped.size();
    }
    for (const Job& job : dropped) close_fd(job.socket.fd);
    shut_down_workers();
  }

  void shut_down_workers() {
    {
      std::lock_guard lock(mutex_);
      exiting_ = true;
    }
    ready_.notify_all();
    for (pthread_t thread : workers_) pthread_join(thread, nullptr);
    workers_.clear();
  }

  PoolSettings own_;
  Generation* generation_ = nullptr;
  std::vector<pthread_t> workers_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  std::size_t live_ = 0;  // queued + being served
  bool exiting_ = false;
  DoneSignal done_;
};

}  // namespace

std::unique_ptr<Strategy> make_threadpool_strategy(Section& section, ServerSettings& settings,
                                                   const Section& top) {
  (void)settings;
  (void)top;
  PoolSettings own;
  own.threads = static_cast<int>(section.integer("threads", own.threads, 1, 4096));
  own.queue_size = static_cast<int>(section.integer("queue_size", own.queue_size, 1, 1'000'000));
  return std::make_unique<ThreadPoolStrategy>(own);
}

}  // namespace srv
