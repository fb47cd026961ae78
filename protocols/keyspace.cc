#include "protocols/keyspace.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <chrono>
#include <new>
#include <random>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

#include "protocols/client_registry.h"

namespace srv {

namespace bip = boost::interprocess;

// The header at the start of the mapping, outside the managed heap so that wiping the heap
// leaves the lock and the counters alone. Only plain data, atomics and offset pointers: it is
// read at different addresses by different processes in principle.
struct Keyspace::Shared {
  pthread_mutex_t mutex;
  // Set while a writer holds the lock: a holder that dies with it set may have left the
  // containers half-updated.
  bool write_in_progress = false;
  std::uint64_t owner_deaths = 0;
  std::uint64_t resets = 0;
  // Where the next expiry sweep starts (a bucket index, taken modulo the bucket count).
  std::uint64_t sweep_bucket = 0;
  KeyHash hash;
  bip::offset_ptr<KeyTable> table;
  bip::offset_ptr<ClientRegistry> clients;
  std::atomic<std::uint64_t> next_client_id{1};
  std::atomic<std::int64_t> connected_clients{0};
};

namespace {

// Buckets an expiry sweep looks at per write command: bounded work per command that still
// reclaims keys nobody reads again.
constexpr std::size_t kSweepBuckets = 4;
// The heap starts on its own page, and the allocator wants it aligned.
constexpr std::size_t kHeaderSpace = 4096;
static_assert(sizeof(pthread_mutex_t) + 128 < kHeaderSpace);

std::uint64_t load_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint64_t rotl(std::uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
};

// SipHash-1-3 (one compression round, three finalisation rounds), as in Redis's siphash.c.
std::uint64_t siphash13(std::string_view data, std::uint64_t k0, std::uint64_t k1) {
  SipState s{0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1, 0x6c7967656e657261ULL ^ k0,
             0x7465646279746573ULL ^ k1};
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  const std::size_t whole = n - n % 8;
  for (std::size_t i = 0; i < whole; i += 8) {
    std::uint64_t m = load_le64(in + i);
    s.v3 ^= m;
    s.round();
    s.v0 ^= m;
  }
  std::uint64_t b = static_cast<std::uint64_t>(n) << 56;
  for (std::size_t i = whole; i < n; ++i)
    b |= static_cast<std::uint64_t>(in[i]) << (8 * (i - whole));
  s.v3 ^= b;
  s.round();
  s.v0 ^= b;
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v)) return v;
  std::random_device device;  // getrandom unavailable (old kernel, seccomp): good enough
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

shm::SegmentManager* segment_of(KeyTable& table) {
  return table.get_allocator().get_segment_manager();
}

}  // namespace

std::size_t KeyHash::operator()(std::string_view key) const {
  return static_cast<std::size_t>(siphash13(key, k0, k1));
}

Value::~Value() {
  free_list();
}

void Value::free_list() noexcept {
  if (list_) {
    string_.get_allocator().get_segment_manager()->destroy_ptr(list_.get());
    list_ = nullptr;
  }
}

void Value::assign_string(shm::String&& s) noexcept {
  free_list();
  type_ = ValueType::kString;
  string_ = std::move(s);  // same allocator: a pointer swap
}

void Value::make_list() {
  shm::SegmentManager* segment = string_.get_allocator().get_segment_manager();
  shm::List* list =
      segment->construct<shm::List>(bip::anonymous_instance)(shm::Allocator<shm::String>(segment));
  free_list();
  list_ = list;
  string_.clear();
  string_.shrink_to_fit();
  type_ = ValueType::kList;
}

Keyspace::Keyspace(std::size_t max_memory) {
  if (max_memory < kMinMemory) {
    throw std::invalid_argument("keyspace max_memory must be at least 64KiB");
  }
  long page = ::sysconf(_SC_PAGESIZE);
  std::size_t page_size = page > 0 ? static_cast<std::size_t>(page) : 4096;
  region_size_ = (max_memory + page_size - 1) / page_size * page_size;
  // MAP_SHARED: forked children write to the same pages. MAP_NORESERVE: pages cost memory only
  // once keys are stored in them.
  region_ = ::mmap(nullptr, region_size_, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region_ == MAP_FAILED) {
    region_ = nullptr;
    throw std::system_error(errno, std::generic_category(), "mmap of the keyspace");
  }
  shared_ = new (region_) Shared();
  heap_ = static_cast<char*>(region_) + kHeaderSpace;
  heap_size_ = region_size_ - kHeaderSpace;
  try {
    pthread_mutexattr_t attributes;
    check(pthread_mutexattr_init(&attributes), "pthread_mutexattr_init");
    int rc = pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    if (rc == 0) rc = pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    if (rc == 0) rc = pthread_mutex_init(&shared_->mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    check(rc, "keyspace mutex");
    shared_->hash = KeyHash{random_u64(), random_u64()};
    build_store();
  } catch (...) {
    ::munmap(region_, region_size_);
    throw;
  }
}

Keyspace::~Keyspace() {
  // The mutex and the heap stay for the processes still mapping them; the kernel frees the
  // pages when the last mapping goes.
  if (region_ != nullptr) ::munmap(region_, region_size_);
}

void Keyspace::build_store() {
  // Placing a new segment manager over the heap forgets everything in it, which is the point
  // when recovering from a dead writer: nothing of the old structures is trusted.
  shm::Segment segment(bip::create_only, heap_, heap_size_);
  shm::SegmentManager* manager = segment.get_segment_manager();
  shared_->table = manager->construct<KeyTable>(bip::anonymous_instance)(
      0, shared_->hash, KeyEqual{}, shm::Allocator<std::pair<const shm::String, Value>>(manager));
  shared_->clients =
      manager->construct<ClientRegistry>(bip::anonymous_instance)(manager, shared_->hash);
  shared_->sweep_bucket = 0;
  // `segment` only forgets the heap when destroyed; the manager stays where it was placed.
}

void Keyspace::lock() {
  int rc = pthread_mutex_lock(&shared_->mutex);
  if (rc == EOWNERDEAD) {
    ++shared_->owner_deaths;
    if (shared_->write_in_progress) {
      spdlog::warn("keyspace: a process died while writing; the keyspace was reset to empty");
      try {
        build_store();
      } catch (...) {
        // Unlocking without pthread_mutex_consistent makes the mutex ENOTRECOVERABLE: every
        // later command fails with an error instead of using a broken store or hanging.
        unlock();
        throw;
      }
      ++shared_->resets;
      shared_->write_in_progress = false;
    } else {
      spdlog::warn("keyspace: a process died holding the lock to read; data kept");
    }
    rc = pthread_mutex_consistent(&shared_->mutex);
  }
  check(rc, "keyspace lock");
}

void Keyspace::unlock() noexcept {
  pthread_mutex_unlock(&shared_->mutex);
}

std::int64_t Keyspace::now_ms() const {
  if (clock_) return clock_();
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Keyspace::Access Keyspace::read() {
  return Access(*this, false);
}

Keyspace::Access Keyspace::write() {
  return Access(*this, true);
}

std::uint64_t Keyspace::next_client_id() {
  return shared_->next_client_id.fetch_add(1, std::memory_order_relaxed);
}

void Keyspace::client_connected() {
  shared_->connected_clients.fetch_add(1, std::memory_order_relaxed);
}

void Keyspace::client_disconnected() {
  shared_->connected_clients.fetch_sub(1, std::memory_order_relaxed);
}

std::int64_t Keyspace::connected_clients() const {
  return shared_->connected_clients.load(std::memory_order_relaxed);
}

std::uint64_t Keyspace::owner_deaths() {
  Access access = read();
  return shared_->owner_deaths;
}

std::uint64_t Keyspace::resets() {
  Access access = read();
  return shared_->resets;
}

void Keyspace::set_clock_for_testing(std::function<std::int64_t()> now_ms) {
  clock_ = std::move(now_ms);
}

Keyspace::Access::Access(Keyspace& keyspace, bool write) : keyspace_(keyspace), write_(write) {
  keyspace_.lock();
  // Read only under the lock: the table moves when a dead writer's store is rebuilt.
  table_ = keyspace_.shared_->table.get();
  clients_ = keyspace_.shared_->clients.get();
  now_ms_ = keyspace_.now_ms();
  if (write_) {
    keyspace_.shared_->write_in_progress = true;
    sweep_expired();
  }
}

Keyspace::Access::~Access() {
  if (write_) keyspace_.shared_->write_in_progress = false;
  keyspace_.unlock();
}

Value* Keyspace::Access::find(std::string_view key) {
  auto it = table_->find(key, table_->hash_function(), KeyEqual{});
  if (it == table_->end()) return nullptr;
  Value& value = it->second;
  if (value.expires_at_ms != kNoExpiry && value.expires_at_ms <= now_ms_) {
    if (write_) table_->erase(it);
    return nullptr;
  }
  return &value;
}

Value& Keyspace::Access::insert(std::string_view key) {
  shm::String stored = make_string(key);
  auto [it, inserted] =
      table_->try_emplace(std::move(stored), shm::Allocator<char>(segment_of(*table_)));
  (void)inserted;  // the caller checked that the key was absent
  return it->second;
}

bool Keyspace::Access::erase(std::string_view key) {
  auto it = table_->find(key, table_->hash_function(), KeyEqual{});
  if (it == table_->end()) return false;
  table_->erase(it);
  return true;
}

void Keyspace::Access::clear() {
  table_->clear();
}

std::size_t Keyspace::Access::size() const {
  return table_->size();
}

std::size_t Keyspace::Access::count_expiring() const {
  std::size_t n = 0;
  for (const auto& entry : *table_) n += entry.second.expires_at_ms != kNoExpiry ? 1 : 0;
  return n;
}

shm::String Keyspace::Access::make_string(std::string_view bytes) const {
  return shm::String(bytes.data(), bytes.size(), shm::Allocator<char>(segment_of(*table_)));
}

ClientRegistry& Keyspace::Access::clients() {
  assert(write_ && "the client registry changes under the write lock only");
  return *clients_;
}

MemoryStats Keyspace::Access::memory() const {
  shm::SegmentManager* segment = segment_of(*table_);
  return {segment->get_size(), segment->get_size() - segment->get_free_memory()};
}

void Keyspace::Access::sweep_expired() {
  std::size_t buckets = table_->bucket_count();
  if (buckets == 0 || table_->empty()) return;
  std::uint64_t& cursor = keyspace_.shared_->sweep_bucket;
  for (std::size_t i = 0; i < kSweepBuckets; ++i) {
    std::size_t bucket = static_cast<std::size_t>(cursor++ % buckets);
    for (auto it = table_->begin(bucket); it != table_->end(bucket);) {
      auto current = it++;  // erasing invalidates only the erased element's iterators
      std::int64_t expires = current->second.expires_at_ms;
      if (expires != kNoExpiry && expires <= now_ms_) table_->erase(table_->find(current->first));
    }
  }
}

}  // namespace srv
