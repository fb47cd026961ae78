#include "server/metrics.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/types.h>

#include <cerrno>
#include <csignal>
#include <mutex>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>

#include "server/access_log.h"

namespace srv {
namespace {

using Atomic = std::atomic<std::uint64_t>;

template <std::size_t N>
using Atomics = std::array<Atomic, N>;

constexpr std::size_t kNameSize = 96;  // "[v6 address]:port" fits, a plugin name too

constexpr std::size_t index(auto e) {
  return static_cast<std::size_t>(e);
}

// Figures are grouped by how often they change: the per-request ones first, together.
struct SlotFigures {
  Atomics<kDurationBuckets.size() + 1> durations;
  Atomic duration_sum_ns;
  Atomic bytes_received;
  Atomic bytes_sent;
  Atomics<index(RequestError::kCount)> errors;
  Atomic accepted;
  std::atomic<std::int64_t> active;
  Atomics<index(RefuseReason::kCount)> refused;
  Atomics<index(TimeoutKind::kCount)> timed_out;
  Atomic output_limited;
};

// Names are written once, by the main process before it forks, and only read afterwards.
struct SlotNames {
  char address[kNameSize];
  char protocol[kNameSize];
  char transport[8];
};

}  // namespace

struct ListenerSlot {
  alignas(64) SlotFigures figures;
  SlotNames names;
};

// The share of each listener's `active` gauge held by one process, so that the process's
// reaper can take back what a process killed with connections open never decremented.
struct ProcessRow {
  std::atomic<pid_t> pid;  // 0: free
  std::array<std::atomic<std::int32_t>, kListenerSlots> active;
};

namespace {

struct Page {
  std::array<ListenerSlot, kListenerSlots> slots;
  std::array<ProcessRow, kProcessRows> rows;
  std::atomic<std::uint32_t> slots_used;
  Atomic reloads_ok;
  Atomic reloads_failed;
  Atomic worker_restarts;
};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

// The bucket bounds in nanoseconds, so finding a request's bucket compares integers.
constexpr auto kBoundsNs = [] {
  std::array<std::int64_t, kDurationBuckets.size()> ns{};
  for (std::size_t i = 0; i < ns.size(); ++i) {
    ns[i] = static_cast<std::int64_t>(kDurationBuckets[i] * 1e9 + 0.5);
  }
  return ns;
}();

Page* map_page() {
  void* at =
      ::mmap(nullptr, sizeof(Page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  static Page fallback;  // as in counters.cc: count per process if mmap fails at start-up
  return at == MAP_FAILED ? &fallback : new (at) Page{};
}

Page& page() {
  static Page* const shared = map_page();
  return *shared;
}

// This process's row; reset in a forked child (pthread_atfork), which claims its own.
std::atomic<ProcessRow*> g_row{nullptr};
std::mutex g_row_claim;

/// Gives a row's counts back to the gauges and frees it.
void release_row(ProcessRow& row) {
  Page& p = page();
  for (std::size_t i = 0; i < kListenerSlots; ++i) {
    std::int32_t held = row.active[i].exchange(0, std::memory_order_relaxed);
    if (held != 0) p.slots[i].figures.active.fetch_sub(held, std::memory_order_relaxed);
  }
  row.pid.store(0, std::memory_order_release);
}

ProcessRow* claim_row(pid_t self) {
  Page& p = page();
  for (int pass = 0; pass < 2; ++pass) {
    for (ProcessRow& row : p.rows) {
      pid_t expected = 0;
      if (row.pid.compare_exchange_strong(expected, self, std::memory_order_acq_rel)) return &row;
    }
    // Full: rows of processes that died unreaped by us (their parent died too) are taken back.
    for (ProcessRow& row : p.rows) {
      pid_t owner = row.pid.load(std::memory_order_acquire);
      if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) forget_process(owner);
    }
  }
  return nullptr;  // more live processes than rows: this one's share is not tracked
}

ProcessRow* my_row() {
  ProcessRow* row = g_row.load(std::memory_order_acquire);
  if (row != nullptr) return row;
  std::lock_guard<std::mutex> lock(g_row_claim);
  row = g_row.load(std::memory_order_acquire);
  if (row == nullptr) {
    row = claim_row(::getpid());
    g_row.store(row, std::memory_order_release);
  }
  return row;
}

std::size_t slot_index(const ListenerSlot* slot) {
  return static_cast<std::size_t>(slot - page().slots.data());
}

void copy_name(char (&to)[kNameSize], std::string_view from) {
  std::size_t n = std::min(from.size(), kNameSize - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

void add(Atomic& to, std::uint64_t n) {
  to.fetch_add(n, std::memory_order_relaxed);
}

template <std::size_t N>
void copy_out(const Atomics<N>& from, std::array<std::uint64_t, N>& to) {
  for (std::size_t i = 0; i < N; ++i) to[i] = from[i].load(std::memory_order_relaxed);
}

ListenerFigures figures_of(const ListenerSlot& slot) {
  const SlotFigures& f = slot.figures;
  ListenerFigures out;
  out.address = slot.names.address;
  out.protocol = slot.names.protocol;
  out.transport = slot.names.transport;
  out.accepted = f.accepted.load(std::memory_order_relaxed);
  out.active = f.active.load(std::memory_order_relaxed);
  copy_out(f.refused, out.refused);
  copy_out(f.timed_out, out.timed_out);
  out.output_limited = f.output_limited.load(std::memory_order_relaxed);
  out.bytes_received = f.bytes_received.load(std::memory_order_relaxed);
  out.bytes_sent = f.bytes_sent.load(std::memory_order_relaxed);
  copy_out(f.errors, out.errors);
  copy_out(f.durations, out.durations);
  out.duration_sum_ns = f.duration_sum_ns.load(std::memory_order_relaxed);
  return out;
}

}  // namespace

std::string_view refuse_reason_name(RefuseReason reason) {
  constexpr std::string_view kNames[] = {"max_connections", "queue_full", "fd_limit", "resources"};
  return kNames[index(reason)];
}

std::string_view timeout_kind_name(TimeoutKind kind) {
  constexpr std::string_view kNames[] = {"idle", "read", "write", "handshake"};
  return kNames[index(kind)];
}

void init_metrics() {
  page();
  static std::once_flag registered;
  std::call_once(registered, [] {
    ::pthread_atfork(nullptr, nullptr, [] { g_row.store(nullptr, std::memory_order_relaxed); });
  });
}

void forget_process(pid_t pid) {
  if (pid <= 0) return;
  for (ProcessRow& row : page().rows) {
    if (row.pid.load(std::memory_order_acquire) == pid) release_row(row);
  }
}

ListenerSlot* listener_slot(std::string_view address, std::string_view protocol,
                            std::string_view transport) {
  Page& p = page();
  std::uint32_t used = p.slots_used.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < used; ++i) {
    const SlotNames& names = p.slots[i].names;
    if (names.address == address && names.protocol == protocol) return &p.slots[i];
  }
  ListenerSlot& slot = p.slots[std::min<std::size_t>(used, kListenerSlots - 1)];
  bool overflow = used >= kListenerSlots - 1;
  copy_name(slot.names.address, overflow ? "other" : address);
  copy_name(slot.names.protocol, overflow && used >= kListenerSlots ? "other" : protocol);
  std::snprintf(slot.names.transport, sizeof slot.names.transport, "%.*s",
                static_cast<int>(transport.size()), transport.data());
  if (used < kListenerSlots) p.slots_used.store(used + 1, std::memory_order_release);
  return &slot;
}

void count_refused(ListenerSlot* slot, RefuseReason reason) {
  if (slot) add(slot->figures.refused[index(reason)], 1);
}

void count_reload(bool applied) {
  add(applied ? page().reloads_ok : page().reloads_failed, 1);
}

void count_worker_restart() {
  add(page().worker_restarts, 1);
}

MetricsSnapshot snapshot_metrics() {
  const Page& p = page();
  MetricsSnapshot out;
  std::uint32_t used = p.slots_used.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < used; ++i) out.listeners.push_back(figures_of(p.slots[i]));
  for (std::size_t i = 0; i < out.counters.size(); ++i) {
    out.counters[i] = counter_value(static_cast<Counter>(i));
  }
  out.reloads_ok = p.reloads_ok.load(std::memory_order_relaxed);
  out.reloads_failed = p.reloads_failed.load(std::memory_order_relaxed);
  out.worker_restarts = p.worker_restarts.load(std::memory_order_relaxed);
  return out;
}

ConnectionMeter::ConnectionMeter(ListenerSlot* slot) : ConnectionMeter(slot, Access{}) {}

ConnectionMeter::ConnectionMeter(ListenerSlot* slot, const Access& access)
    : slot_(slot), access_(access.log) {
  if (access_) {
    peer_ = access.peer;
    local_ = access.local;
  }
  if (!slot_) return;
  add(slot_->figures.accepted, 1);
  slot_->figures.active.fetch_add(1, std::memory_order_relaxed);
  row_ = my_row();
  if (row_) row_->active[slot_index(slot_)].fetch_add(1, std::memory_order_relaxed);
}

ConnectionMeter::~ConnectionMeter() {
  if (!slot_) return;
  // The row first: a reaper that releases it meanwhile must not take this one back twice. A
  // row released since (this process outlived being forgotten) gives nothing back twice.
  if (row_ && row_->pid.load(std::memory_order_acquire) != 0) {
    row_->active[slot_index(slot_)].fetch_sub(1, std::memory_order_relaxed);
  }
  slot_->figures.active.fetch_sub(1, std::memory_order_relaxed);
}

void ConnectionMeter::received(std::uint64_t bytes) {
  if (slot_) add(slot_->figures.bytes_received, bytes);
}

void ConnectionMeter::sent(std::uint64_t bytes) {
  if (slot_) add(slot_->figures.bytes_sent, bytes);
}

void ConnectionMeter::timed_out(TimeoutKind kind) {
  if (slot_) add(slot_->figures.timed_out[index(kind)], 1);
}

void ConnectionMeter::output_limited() {
  if (slot_) add(slot_->figures.output_limited, 1);
}

void ConnectionMeter::count(std::optional<RequestError> error, const RequestSummary& summary) {
  if (!slot_ && !access_) return;
  Clock::time_point now = Clock::now();
  auto took = std::max(std::chrono::nanoseconds(0),
                       std::chrono::duration_cast<std::chrono::nanoseconds>(now - began_));
  began_ = now;  // a pipelined request behind this one began when this one was answered
  if (slot_) {
    auto ns = took.count();
    std::size_t bucket =
        std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), ns) - kBoundsNs.begin();
    add(slot_->figures.durations[bucket], 1);
    add(slot_->figures.duration_sum_ns, static_cast<std::uint64_t>(ns));
    if (error) add(slot_->figures.errors[index(*error)], 1);
  }
  if (access_) {
    access_->write({peer_, local_, summary, error, took, std::chrono::system_clock::now()});
  }
}

}  // namespace srv
