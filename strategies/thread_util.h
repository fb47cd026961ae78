#pragma once

// Helpers for the thread-based strategies (thread, threadpool).

#include <pthread.h>

#include <cstddef>
#include <functional>

namespace srv {

/// Starts a joinable thread running `body` with `stack_size` bytes of stack (0: the default)
/// and every signal blocked, so signal handlers run on the main thread only. Returns false when
/// the system refuses (EAGAIN at the thread limit, ENOMEM): the caller sheds the work.
bool start_thread(pthread_t& thread, std::size_t stack_size, std::function<void()> body);

/// An eventfd that worker threads bump when a connection ends, so the main thread's poll wakes
/// up to join threads and to notice the end of a drain. notify() from any thread; clear() on
/// the main thread.
class DoneSignal {
 public:
  DoneSignal();
  ~DoneSignal();
  DoneSignal(const DoneSignal&) = delete;
  DoneSignal& operator=(const DoneSignal&) = delete;

  int fd() const { return fd_; }
  void notify();
  void clear();

 private:
  int fd_;
};

}  // namespace srv
