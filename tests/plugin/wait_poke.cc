// A test protocol for the wake-up seam, loaded by the conformance suite as a plugin (so the srv
// binary carries no test protocol). Lines in, lines out:
//   PING            -> PONG
//   PID             -> the serving process's id (fork and prefork serve in several processes)
//   WAIT key [ms]   -> parks until a POKE of `key` (-> WOKE key) or for at most `ms` (-> TIMEOUT
//                      key); lines sent meanwhile are answered afterwards, in order
//   POKE key        -> wakes every connection waiting for `key` -> POKED n (how many)
//   WAITERS key     -> how many connections wait for `key` (poked or not), without waking them
// The waiters are kept in a small table in shared memory mapped by the factory, before srv
// forks, so a POKE reaches waiters served by another thread or another process.

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "server/plugin.h"

namespace {

constexpr std::size_t kSlots = 1024;
constexpr std::size_t kKeySize = 32;

struct Slot {
  enum State : std::uint32_t { kFree, kWaiting, kPoked };
  State state = kFree;
  char key[kKeySize] = {};
  srv::WakeAddress address;
};

// The waiters of every process. One process-shared robust mutex: a connection process killed
// while holding it (SIGKILL at the end of a test) does not block the others.
class Table {
 public:
  Table() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
  }

  // The slot where `address` now waits for `key`; -1 if the table is full.
  int add(std::string_view key, const srv::WakeAddress& address) {
    Lock lock(mutex_);
    for (std::size_t i = 0; i < kSlots; ++i) {
      Slot& slot = slots_[i];
      if (slot.state != Slot::kFree) continue;
      slot.state = Slot::kWaiting;
      std::memset(slot.key, 0, kKeySize);
      std::memcpy(slot.key, key.data(), key.size());
      slot.address = address;
      return static_cast<int>(i);
    }
    return -1;
  }

  // Frees `index`; true if it had been poked.
  bool take(int index) {
    Lock lock(mutex_);
    Slot& slot = slots_[index];
    bool poked = slot.state == Slot::kPoked;
    slot.state = Slot::kFree;
    return poked;
  }

  bool poked(int index) {
    Lock lock(mutex_);
    return slots_[index].state == Slot::kPoked;
  }

  // Connections waiting for `key`, poked or not.
  std::size_t count(std::string_view key) {
    Lock lock(mutex_);
    std::size_t n = 0;
    for (const Slot& slot : slots_) {
      n += slot.state != Slot::kFree && std::string_view(slot.key) == key;
    }
    return n;
  }

  // Marks every waiter of `key` poked; returns their addresses, to ring.
  std::vector<srv::WakeAddress> poke(std::string_view key) {
    std::vector<srv::WakeAddress> woken;
    Lock lock(mutex_);
    for (Slot& slot : slots_) {
      if (slot.state == Slot::kWaiting && std::string_view(slot.key) == key) {
        slot.state = Slot::kPoked;
        woken.push_back(slot.address);
      }
    }
    return woken;
  }

 private:
  struct Lock {
    explicit Lock(pthread_mutex_t& mutex) : mutex_(mutex) {
      if (pthread_mutex_lock(&mutex_) == EOWNERDEAD) pthread_mutex_consistent(&mutex_);
    }
    ~Lock() { pthread_mutex_unlock(&mutex_); }
    pthread_mutex_t& mutex_;
  };

  pthread_mutex_t mutex_;
  Slot slots_[kSlots];
};

using Clock = std::chrono::steady_clock;

class WaitPoke final : public srv::ProtocolHandler {
 public:
  WaitPoke(Table& table, srv::Waker& waker) : table_(table), waker_(waker) {}
  ~WaitPoke() override {
    if (slot_ >= 0) table_.take(slot_);  // a client that leaves leaves no waiter
  }

  srv::Step on_data(std::string_view in, srv::Buffer& out) override {
    std::size_t end = in.find('\n');
    if (end == std::string_view::npos) return {0, srv::Verdict::kContinue};
    std::string_view line = in.substr(0, end);
    std::string_view command = line.substr(0, line.find(' '));
    std::string_view key = line.substr(std::min(line.size(), command.size() + 1));
    key = key.substr(0, key.find(' '));
    srv::Verdict verdict = srv::Verdict::kContinue;
    if (command == "PING") {
      out.append("PONG\n");
    } else if (command == "PID") {
      out.append(std::to_string(::getpid()) + "\n");
    } else if (command == "WAIT" && !key.empty() && key.size() < kKeySize) {
      verdict = wait(key, line.substr(command.size() + 1 + key.size()), out);
    } else if (command == "POKE" && !key.empty()) {
      std::vector<srv::WakeAddress> woken = table_.poke(key);
      waker_.wake_all(woken);
      out.append("POKED " + std::to_string(woken.size()) + "\n");
    } else if (command == "WAITERS" && !key.empty()) {
      out.append(std::to_string(table_.count(key)) + "\n");
    } else {
      out.append("ERR\n");
    }
    return {end + 1, verdict};
  }

  srv::Verdict on_wake(srv::Buffer& out) override {
    if (slot_ < 0) return srv::Verdict::kContinue;         // not waiting: spurious
    if (!table_.poked(slot_)) return srv::Verdict::kPark;  // spurious, or for someone else
    return answer("WOKE ", out);
  }

  srv::Clock::time_point deadline() const override { return deadline_; }

  srv::Verdict on_deadline(srv::Buffer& out) override {
    return answer(table_.poked(slot_) ? "WOKE " : "TIMEOUT ", out);
  }

 private:
  // `rest` is "" or " MS".
  srv::Verdict wait(std::string_view key, std::string_view rest, srv::Buffer& out) {
    srv::WakeAddress address = waker_.address();
    slot_ = address.valid() ? table_.add(key, address) : -1;
    if (slot_ < 0) {
      out.append("ERR cannot wait\n");
      return srv::Verdict::kContinue;
    }
    key_ = key;
    long ms = 0;
    if (rest.size() > 1) std::from_chars(rest.data() + 1, rest.data() + rest.size(), ms);
    if (ms > 0) deadline_ = Clock::now() + std::chrono::milliseconds(ms);
    return srv::Verdict::kPark;
  }

  srv::Verdict answer(std::string_view what, srv::Buffer& out) {
    table_.take(slot_);
    slot_ = -1;
    deadline_ = srv::Clock::time_point::max();
    out.append(std::string(what) + key_ + "\n");
    return srv::Verdict::kContinue;
  }

  Table& table_;
  srv::Waker& waker_;
  int slot_ = -1;  // in table_, while waiting
  std::string key_;
  srv::Clock::time_point deadline_ = srv::Clock::time_point::max();
};

class WaitPokeFactory final : public srv::ProtocolFactory {
 public:
  explicit WaitPokeFactory(Table* table) : table_(table) {}
  ~WaitPokeFactory() override {
    table_->~Table();
    ::munmap(table_, sizeof(Table));
  }
  std::unique_ptr<srv::ProtocolHandler> create(const srv::ConnectionContext& context) override {
    return std::make_unique<WaitPoke>(*table_, context.waker);
  }

 private:
  Table* table_;
};

srv::ProtocolFactory* make(const srv::PluginOptions& options, std::string* error) {
  if (!options.empty()) {
    *error = "no options";
    return nullptr;
  }
  void* at =
      ::mmap(nullptr, sizeof(Table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (at == MAP_FAILED) {
    *error = std::string("mmap: ") + std::strerror(errno);
    return nullptr;
  }
  return new WaitPokeFactory(new (at) Table);
}

}  // namespace

SRV_PLUGIN((srv::PluginInfo{.name = "waitpoke",
                            .summary = "WAIT key parks until POKE key (tests the wake-up seam)",
                            .thread_safe = true,
                            .fork_safe = true,
                            .create = make}))
