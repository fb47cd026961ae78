#pragma once

// The Redis keyspace: one hash table of strings and lists, in shared memory, behind one robust
// process-shared lock. It is built once (when the resp protocol factory is created at config
// load, before any strategy forks) in an anonymous MAP_SHARED mapping, so every connection sees
// the same keys whether it runs on a thread of this process or in a forked child: fork,
// prefork, thread, threadpool, select, poll and epoll alike. The keyspace does its own locking;
// callers need no other synchronisation.
//
// Inside the mapping: a small header (the lock, counters, the hash seed) followed by a
// Boost.Interprocess managed heap whose containers use offset pointers, so the data is valid at
// whatever address each process sees it (after fork it is the same address anyway).
//
// Crash consistency. The lock is a pthread mutex with PTHREAD_PROCESS_SHARED and
// PTHREAD_MUTEX_ROBUST: when its holder dies (a SIGKILLed child), the next locker gets
// EOWNERDEAD instead of waiting forever. What it finds depends on what the dead holder was
// doing, which the header records:
//   - it held the lock to read: nothing was changed; the data is intact and kept;
//   - it held the lock to write: a container or the allocator's free tree may be half-updated,
//     which cannot be repaired or even detected reliably, so the store is wiped to empty and
//     rebuilt (counted in resets(), logged as a warning).
// Either way the store is structurally valid and the lock usable again (pthread_mutex_consistent
// is called). A thrown exception (bad_alloc when the heap is full) is not a death: the
// containers' exception guarantees keep the store valid and the lock is released normally.

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include <boost/container/deque.hpp>
#include <boost/container/string.hpp>
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/managed_external_buffer.hpp>
#include <boost/interprocess/offset_ptr.hpp>
#include <boost/unordered_map.hpp>

namespace srv {

/// Types that live in the shared heap. Their allocators hold offset pointers to the segment
/// manager, so they are position independent.
namespace shm {
using Segment = boost::interprocess::managed_external_buffer;
using SegmentManager = Segment::segment_manager;
template <class T>
using Allocator = boost::interprocess::allocator<T, SegmentManager>;
using String = boost::container::basic_string<char, std::char_traits<char>, Allocator<char>>;
using List = boost::container::deque<String, Allocator<String>>;

inline std::string_view view(const String& s) {
  return {s.data(), s.size()};
}
}  // namespace shm

enum class ValueType : std::uint8_t { kString, kList };

/// Expiry times are Unix milliseconds, like Redis's (so EXAT/PXAT mean what they say).
inline constexpr std::int64_t kNoExpiry = -1;

/// One key's value, in the shared heap. Only touched while the keyspace lock is held.
class Value {
 public:
  explicit Value(const shm::Allocator<char>& allocator) : string_(allocator) {}
  ~Value();
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  ValueType type() const { return type_; }
  bool is_string() const { return type_ == ValueType::kString; }
  bool is_list() const { return type_ == ValueType::kList; }

  /// The string; meaningful when is_string().
  shm::String& string() { return string_; }
  /// The list; only when is_list().
  shm::List& list() { return *list_; }

  /// Becomes the string `s` (its allocator must be this keyspace's). Never throws: a list held
  /// before is freed, nothing is allocated.
  void assign_string(shm::String&& s) noexcept;
  /// Becomes an empty list. Throws bad_alloc with the value unchanged.
  void make_list();

  /// Unix ms when the key expires, or kNoExpiry.
  std::int64_t expires_at_ms = kNoExpiry;

 private:
  void free_list() noexcept;

  ValueType type_ = ValueType::kString;
  shm::String string_;  // kept (empty) for lists too: it carries the allocator
  boost::interprocess::offset_ptr<shm::List> list_;
};

/// Hashes keys with SipHash-1-3 (Redis's choice) under a seed drawn when the keyspace is made,
/// so clients cannot choose keys that collide. Stateless apart from the seed, which lives in the
/// shared heap with the table: every process hashes alike.
struct KeyHash {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
  std::size_t operator()(std::string_view key) const;
  std::size_t operator()(const shm::String& key) const { return (*this)(shm::view(key)); }
};

/// Key equality across std::string_view (a request's argument) and shm::String (a stored key),
/// so look-ups need no allocation in the shared heap.
struct KeyEqual {
  bool operator()(const shm::String& a, const shm::String& b) const {
    return shm::view(a) == shm::view(b);
  }
  bool operator()(std::string_view a, const shm::String& b) const { return a == shm::view(b); }
  bool operator()(const shm::String& a, std::string_view b) const { return shm::view(a) == b; }
};

using KeyTable = boost::unordered_map<shm::String, Value, KeyHash, KeyEqual,
                                      shm::Allocator<std::pair<const shm::String, Value>>>;

class ClientRegistry;

/// Bytes of the shared heap.
struct MemoryStats {
  std::size_t capacity = 0;  ///< the heap's size (max_memory less the header)
  std::size_t used = 0;      ///< allocated, including the allocator's and table's overhead
};

/// The shared keyspace. Construct it before forking; every process that inherits the mapping
/// (and every thread) may then use it. The object itself (process-local bookkeeping) is not
/// copied between processes by anything but fork.
class Keyspace {
 public:
  /// The smallest max_memory that holds the header, the allocator and an empty table.
  static constexpr std::size_t kMinMemory = 64 * 1024;

  /// Maps `max_memory` bytes of anonymous shared memory and builds an empty store in it.
  /// Throws std::system_error if the mapping or the lock cannot be made, std::invalid_argument
  /// below kMinMemory.
  explicit Keyspace(std::size_t max_memory);
  /// Unmaps this process's view. Other processes keep theirs.
  ~Keyspace();
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  class Access;
  /// Takes the lock for a command that only reads. Blocks while another thread or process holds
  /// it; recovers it from a dead holder (see the top of this file).
  Access read();
  /// Takes the lock for a command that writes, marks the store as being written (so a death
  /// before the Access ends wipes it) and first drops expired keys from a few buckets.
  Access write();

  /// A number unique across every process of the server (CLIENT ID). Lock-free.
  std::uint64_t next_client_id();
  /// Connections open now, across processes (INFO). Lock-free. A process killed with open
  /// connections leaves them counted.
  void client_connected();
  void client_disconnected();
  std::int64_t connected_clients() const;

  /// How often a dead holder's lock was recovered, and how many of those wiped the store.
  std::uint64_t owner_deaths();
  std::uint64_t resets();

  /// Replaces the clock (Unix ms) for this process, for tests of expiry. Not thread-safe: set it
  /// before any use.
  void set_clock_for_testing(std::function<std::int64_t()> now_ms);

 private:
  struct Shared;

  void lock();
  void unlock() noexcept;
  void build_store();
  std::int64_t now_ms() const;

  void* region_ = nullptr;
  std::size_t region_size_ = 0;
  Shared* shared_ = nullptr;
  char* heap_ = nullptr;
  std::size_t heap_size_ = 0;
  std::function<std::int64_t()> clock_;
};

/// The lock held for one command, and what may be done under it. Obtained from read() or
/// write(); released when destroyed. Pointers it returns are valid only while it lives. Belongs
/// to one thread.
class Keyspace::Access {
 public:
  ~Access();
  Access(const Access&) = delete;
  Access& operator=(const Access&) = delete;

  /// The time commands use for expiry, read once when the lock was taken (Unix ms).
  std::int64_t now_ms() const { return now_ms_; }

  /// The live value under `key`, or nullptr if it is absent or has expired. A write access also
  /// deletes the expired key.
  Value* find(std::string_view key);
  /// Adds `key` (which must be absent) with an empty string value. Throws bad_alloc with the
  /// store unchanged.
  Value& insert(std::string_view key);
  /// Removes `key`; false if it was absent. Never allocates.
  bool erase(std::string_view key);
  /// Removes every key. Never allocates.
  void clear();
  /// Keys stored, including expired ones not removed yet (as Redis's DBSIZE).
  std::size_t size() const;
  /// Keys with an expiry set (INFO keyspace); walks the table.
  std::size_t count_expiring() const;
  /// A string in the shared heap holding `bytes`, for storing. Throws bad_alloc.
  shm::String make_string(std::string_view bytes) const;
  MemoryStats memory() const;
  /// Blocked clients, subscriptions and mailboxes (client_registry.h). Write access only.
  ClientRegistry& clients();
  /// The same, to read (INFO, PUBSUB) under either lock.
  const ClientRegistry& clients() const { return *clients_; }

 private:
  friend class Keyspace;
  Access(Keyspace& keyspace, bool write);
  void sweep_expired();

  Keyspace& keyspace_;
  bool write_;
  KeyTable* table_ = nullptr;
  ClientRegistry* clients_ = nullptr;
  std::int64_t now_ms_ = 0;
};

}  // namespace srv
