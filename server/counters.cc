#include "server/counters.h"

#include <sys/mman.h>

#include <array>
#include <atomic>
#include <chrono>
#include <new>

namespace srv {
namespace {

constexpr std::size_t kCounters = static_cast<std::size_t>(Counter::kCount);

struct Page {
  std::array<std::atomic<std::uint64_t>, kCounters> totals;
  std::array<std::atomic<std::int64_t>, kCounters> last_log_second;
  std::atomic<std::uint64_t> last_connection_id;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "counters are shared across processes and must not hide a lock");

Page* map_page() {
  void* at =
      ::mmap(nullptr, sizeof(Page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  static Page fallback;  // mmap failing at start-up is hardly possible; count per process then
  return at == MAP_FAILED ? &fallback : new (at) Page{};
}

Page& page() {
  static Page* const shared = map_page();  // thread-safe first use
  return *shared;
}

std::size_t index(Counter counter) {
  return static_cast<std::size_t>(counter);
}

}  // namespace

std::string_view counter_name(Counter counter) {
  static constexpr std::array<std::string_view, kCounters> kNames = {
      "connections_refused",  "tls_handshakes",
      "tls_resumed",          "tls_failed_version",
      "tls_failed_cipher",    "tls_failed_client_cert",
      "tls_failed_alpn",      "tls_failed_plaintext",
      "tls_failed_malformed", "tls_failed_timeout",
      "tls_failed_closed",    "tls_failed_other",
      "resp_cross_protocol",  "slow_requests_closed",
      "slow_readers_closed",  "reloads",
      "reloads_refused",      "reloads_failed",
      "generation_restarts",  "output_limited_closed"};
  return kNames[index(counter)];
}

void init_counters() {
  page();
}

std::uint64_t count(Counter counter, std::uint64_t n) {
  return page().totals[index(counter)].fetch_add(n, std::memory_order_relaxed) + n;
}

std::uint64_t counter_value(Counter counter) {
  return page().totals[index(counter)].load(std::memory_order_relaxed);
}

std::uint64_t next_connection_id() {
  return page().last_connection_id.fetch_add(1, std::memory_order_relaxed) + 1;
}

bool log_allowed(Counter counter) {
  std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  auto& last = page().last_log_second[index(counter)];
  std::int64_t seen = last.load(std::memory_order_relaxed);
  return seen != now && last.compare_exchange_strong(seen, now);
}

}  // namespace srv
