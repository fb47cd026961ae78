#include "server/doorbell.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <new>
#include <system_error>

#include <spdlog/spdlog.h>

namespace srv {
namespace {

constexpr std::size_t kNameSize = sizeof WakeAddress::doorbell;
constexpr std::size_t kIdsPerDatagram = 256;
constexpr int kDrainBurst = 64;  // datagrams per drain(), so one doorbell cannot starve a loop
constexpr std::uint64_t kPostRing = 0;  // no connection has id 0

// Rings that found a doorbell's queue full, one counter per slot (slots are shared by hashing).
constexpr std::size_t kOverflowSlots = 4096;
using OverflowTable = std::array<std::atomic<std::uint32_t>, kOverflowSlots>;
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "the table is shared across processes and must not hide a lock");

OverflowTable& overflow_table() {
  static OverflowTable* const shared = [] {
    void* at = ::mmap(nullptr, sizeof(OverflowTable), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    // mmap failing at start-up is hardly possible; rings then cross threads but not processes.
    static OverflowTable fallback{};
    return at == MAP_FAILED ? &fallback : new (at) OverflowTable{};
  }();
  return *shared;
}

std::size_t name_length(const char* name) {
  return ::strnlen(name, kNameSize);
}

std::size_t overflow_slot(const char* name) {
  std::uint32_t hash = 2166136261U;  // FNV-1a
  for (std::size_t i = 0; i < name_length(name); ++i) {
    hash = (hash ^ static_cast<unsigned char>(name[i])) * 16777619U;
  }
  return hash % kOverflowSlots;
}

// The abstract socket address of doorbell `name`.
struct Target {
  sockaddr_un addr{};
  socklen_t length = 0;

  explicit Target(const char* name) {
    addr.sun_family = AF_UNIX;
    std::size_t n = name_length(name);
    std::memcpy(addr.sun_path + 1, name, n);  // sun_path[0] stays NUL: the abstract namespace
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
  }
};

enum class Sent { kDelivered, kGone, kNotQueued };

Sent send_ids(int fd, const Target& to, std::span<const std::uint64_t> ids) {
  for (;;) {
    ssize_t n = ::sendto(fd, ids.data(), ids.size_bytes(), MSG_DONTWAIT | MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(&to.addr), to.length);
    if (n >= 0) return Sent::kDelivered;
    if (errno == EINTR) continue;
    // Nobody is bound to the name: the doorbell has closed, and its connections with it.
    if (errno == ECONNREFUSED || errno == ENOENT) return Sent::kGone;
    return Sent::kNotQueued;  // EAGAIN: its queue (or our send buffer) is full; or no memory
  }
}

int open_datagram_socket() {
  return ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

// Every ring of this process goes out on one unbound socket (sendto needs a socket).
int sender_socket() {
  static const int fd = open_datagram_socket();
  return fd;
}

void ring(const char* name, std::span<const std::uint64_t> ids) {
  Target target(name);
  int sender = sender_socket();
  if (sender >= 0 && send_ids(sender, target, ids) != Sent::kNotQueued) return;
  // Not queued. Count the ring where the owner looks after every drain, then make sure it
  // drains after this point: a datagram queued now, or a queue found full (it is readable). Our
  // shared socket cannot tell which: its own send buffer, holding every datagram of ours still
  // queued anywhere, may be what is full. A fresh socket's buffer is empty, so its EAGAIN can
  // only mean the doorbell's queue is full.
  overflow_table()[overflow_slot(name)].fetch_add(1, std::memory_order_seq_cst);
  int fresh = open_datagram_socket();
  if (fresh < 0) {
    // Out of descriptors: the ring is counted and is seen at the doorbell's next drain.
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) {
      spdlog::warn("wake: cannot open a socket ({}); a wake may be late", std::strerror(errno));
    }
    return;
  }
  (void)send_ids(fresh, target, ids);
  ::close(fresh);
}

}  // namespace

void wake(const WakeAddress& to) {
  if (to.valid()) ring(to.doorbell, std::span(&to.connection, 1));
}

void wake_all(std::span<const WakeAddress> to) {
  std::vector<const WakeAddress*> sorted;
  sorted.reserve(to.size());
  for (const WakeAddress& address : to) {
    if (address.valid()) sorted.push_back(&address);
  }
  std::sort(sorted.begin(), sorted.end(), [](const WakeAddress* a, const WakeAddress* b) {
    return std::memcmp(a->doorbell, b->doorbell, kNameSize) < 0;
  });
  std::array<std::uint64_t, kIdsPerDatagram> ids;
  std::size_t count = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    ids[count++] = sorted[i]->connection;
    bool last_of_doorbell = i + 1 == sorted.size() ||
                            std::memcmp(sorted[i]->doorbell, sorted[i + 1]->doorbell, kNameSize);
    if (last_of_doorbell || count == ids.size()) {
      ring(sorted[i]->doorbell, std::span(ids.data(), count));
      count = 0;
    }
  }
}

void init_doorbells() {
  overflow_table();
}

Doorbell::Doorbell(Open when) {
  if (when == Open::kNow && !open()) {
    throw std::system_error(errno, std::generic_category(), "cannot open a doorbell socket");
  }
}

Doorbell::~Doorbell() {
  if (fd_ >= 0) ::close(fd_);
}

bool Doorbell::open() {
  int fd = open_datagram_socket();
  if (fd < 0) return false;
  // Bound with no name (only the family), the kernel picks a unique abstract one: "\0" and five
  // hex digits.
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socklen_t length = sizeof addr;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(sa_family_t)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return false;
  }
  std::size_t name_size = length - offsetof(sockaddr_un, sun_path) - 1;
  if (addr.sun_path[0] != '\0' || name_size == 0 || name_size > kNameSize ||
      std::memchr(addr.sun_path + 1, '\0', name_size) != nullptr) {
    ::close(fd);
    errno = EINVAL;  // not the autobind name this code knows
    return false;
  }
  std::memcpy(name_, addr.sun_path + 1, name_size);
  overflow_slot_ = overflow_slot(name_);
  overflow_seen_ = overflow_table()[overflow_slot_].load(std::memory_order_seq_cst);
  fd_ = fd;
  return true;
}

WakeAddress Doorbell::enrol(std::uint64_t connection, int token) {
  check_owner();
  if (fd_ < 0 && !open()) return {};
  members_[connection] = token;
  WakeAddress address;
  std::memcpy(address.doorbell, name_, kNameSize);
  address.connection = connection;
  return address;
}

void Doorbell::withdraw(std::uint64_t connection) {
  check_owner();
  members_.erase(connection);
}

void Doorbell::drain(std::vector<int>& tokens) {
  check_owner();
  tokens.clear();
  if (fd_ < 0) return;
  std::array<std::uint64_t, kIdsPerDatagram> ids;
  for (int i = 0; i < kDrainBurst; ++i) {
    ssize_t n = ::recv(fd_, ids.data(), sizeof ids, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: drained
    for (std::size_t k = 0; k < static_cast<std::size_t>(n) / sizeof ids[0]; ++k) {
      auto it = members_.find(ids[k]);
      if (it != members_.end()) tokens.push_back(it->second);
    }
  }
  // After the drain: a sender that counted a ring here made sure a drain follows its count.
  std::uint32_t rings = overflow_table()[overflow_slot_].load(std::memory_order_seq_cst);
  if (rings != overflow_seen_) {
    overflow_seen_ = rings;
    for (const auto& [connection, token] : members_) tokens.push_back(token);
  }
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
}

void Doorbell::post(std::function<void()> fn) {
  assert(fd_ >= 0 && "post() needs a doorbell opened with Open::kNow");
  bool first = false;
  {
    std::lock_guard lock(posted_mutex_);
    first = posted_.empty();
    posted_.push_back(std::move(fn));
  }
  // One ring per batch: until run_posted() takes the batch, later posts ride on this one.
  if (first) ring(name_, std::span(&kPostRing, 1));
}

void Doorbell::run_posted() {
  check_owner();
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lock(posted_mutex_);
    due.swap(posted_);
  }
  for (auto& fn : due) fn();
}

void Doorbell::check_owner() {
#ifndef NDEBUG
  if (owner_ == std::thread::id()) owner_ = std::this_thread::get_id();
  assert(owner_ == std::this_thread::get_id() && "a doorbell is used by its owner thread only");
#endif
}

}  // namespace srv
