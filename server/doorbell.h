#pragma once

// The doorbells behind server/waker.h. Each thread that drives connections (an event loop, a
// blocking session) has one: an abstract-namespace UNIX datagram socket that the kernel names
// (autobind), so any process of the server can send to it by name, with no descriptor passing,
// and the owner polls it like any socket. A datagram carries connection ids; the owner maps them
// to its connections and calls their on_wake().
//
// Datagram queues are short (net.unix.max_dgram_qlen, often 10). A sender that finds one full
// neither blocks nor loses the ring: it bumps the doorbell's counter in a small table shared by
// every process (mapped before any fork), and the owner, after every drain, wakes every
// connection enrolled with it if that counter moved. Counters rather than bits: two doorbells
// may share a slot, and a counter each owner compares with what it last saw cannot be cleared
// by the other one; a shared slot only costs spurious wakes.

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/waker.h"

namespace srv {

/// Rings `to`: its connection's handler gets on_wake() soon, on the thread that drives it. Any
/// thread, any process of the server. Never blocks; an invalid address, or one whose connection
/// or doorbell has gone, is ignored.
void wake(const WakeAddress& to);

/// Rings every address in `to`, batching the ids of each doorbell into datagrams of up to 256.
/// Any thread, any process; never blocks.
void wake_all(std::span<const WakeAddress> to);

/// Maps the table where full doorbells are rung. Call once in the main process before anything
/// forks; without it (tests) each process maps its own on first use.
void init_doorbells();

/// One driving thread's doorbell. Everything but post() belongs to the thread that owns it
/// (debug builds check that).
class Doorbell {
 public:
  enum class Open {
    kNow,         ///< an event loop: post() needs it, and it is watched from the start
    kWhenNeeded,  ///< a blocking session: opened by the first enrol(), so a connection that
                  ///< never parks costs no descriptor
  };

  /// Throws std::system_error when Open::kNow cannot open the socket.
  explicit Doorbell(Open when);
  ~Doorbell();
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;

  /// The socket to poll for readability; -1 until opened.
  int fd() const { return fd_; }

  /// Enrols `connection`, which drain() then reports as `token` (the event loops give its fd),
  /// and returns its address; opens the socket first if needed. An invalid address if it cannot.
  WakeAddress enrol(std::uint64_t connection, int token);
  /// Forgets `connection` (it is closing): rings for it are ignored from now on.
  void withdraw(std::uint64_t connection);

  /// Reads what is queued (a bounded burst; the socket stays readable if more is left) and
  /// replaces `tokens` with the tokens of the connections rung, each once; every enrolled
  /// connection's if a sender found the queue full since the last drain.
  void drain(std::vector<int>& tokens);

  /// What a driver does when fd() polls readable: drain(), `wake(token)` for each connection
  /// rung, then run_posted(). The owner thread.
  template <typename Wake>
  void answer(Wake&& wake) {
    drain(rung_);
    for (int token : rung_) wake(token);
    run_posted();
  }

  /// Queues `fn` to run on the owner thread, in its next run_posted() after a drain, and rings
  /// the doorbell (muduo's queueInLoop). Any thread. Needs Open::kNow.
  void post(std::function<void()> fn);
  /// Runs what post() queued, in order. The owner thread, after drain().
  void run_posted();

 private:
  bool open();
  void check_owner();

  int fd_ = -1;
  char name_[sizeof WakeAddress::doorbell] = {};
  std::size_t overflow_slot_ = 0;
  std::uint32_t overflow_seen_ = 0;
  std::unordered_map<std::uint64_t, int> members_;  // connection id -> token
  std::vector<int> rung_;                           // answer()'s tokens, kept for their capacity
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::thread::id owner_;  // the first thread to use it (checked in debug builds)
};

}  // namespace srv
