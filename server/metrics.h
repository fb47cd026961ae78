#pragma once

// The metrics schema in shared memory: per-listener counters (connections, bytes, timeouts,
// requests, errors, a request-duration histogram) and server-wide ones (reloads, restarts), in
// one anonymous MAP_SHARED mapping made before anything forks, beside server/counters.h. Every
// process and thread adds to it with relaxed atomics; a process that dies takes nothing with it,
// so counters never go backwards. Rendering (metrics_render.h) reads a snapshot of it.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/clock.h"
#include "server/counters.h"
#include "server/request_meter.h"

namespace srv {

/// Listeners with a slot of their own. Listeners beyond kListenerSlots - 1 share the last slot,
/// shown as listener="other"; 15 covers any sensible configuration and keeps the page ~8 KiB.
inline constexpr std::size_t kListenerSlots = 16;

/// Why a connection was refused (srv_connections_refused_total{reason}).
enum class RefuseReason : std::uint8_t {
  kMaxConnections,  ///< "max_connections"
  kQueueFull,       ///< "queue_full": the threadpool's queue
  kFdLimit,         ///< "fd_limit": a descriptor beyond what the poller can watch
  kResources,       ///< "resources": fork or a thread could not be started
  kCount,
};
std::string_view refuse_reason_name(RefuseReason reason);

/// Which deadline ended a connection (srv_connections_timed_out_total{kind}).
enum class TimeoutKind : std::uint8_t {
  kIdle,       ///< "idle": idle_timeout
  kRead,       ///< "read": read_timeout, min_rate on a request, a protocol's own (HTTP header)
  kWrite,      ///< "write": write_timeout, min_rate on replies
  kHandshake,  ///< "handshake": tls.handshake_timeout
  kCount,
};
std::string_view timeout_kind_name(TimeoutKind kind);

/// Upper bounds of the request-duration buckets, in seconds (then +Inf). Fixed: the page has a
/// counter per bucket.
inline constexpr std::array<double, 14> kDurationBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 10};

/// One listener's figures, copied out of the page.
struct ListenerFigures {
  std::string address;    ///< "HOST:PORT", or "other" for the shared overflow slot
  std::string protocol;   ///< "http", "resp", a plugin's name
  std::string transport;  ///< "tcp" or "tls"
  std::uint64_t accepted = 0;
  std::int64_t active = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(RefuseReason::kCount)> refused{};
  std::array<std::uint64_t, static_cast<std::size_t>(TimeoutKind::kCount)> timed_out{};
  std::uint64_t output_limited = 0;  ///< connections cut at limits.max_output_bytes
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(RequestError::kCount)> errors{};
  /// Requests per bucket, not cumulative; the last is above every bound (+Inf).
  std::array<std::uint64_t, kDurationBuckets.size() + 1> durations{};
  std::uint64_t duration_sum_ns = 0;
};

/// Everything the page holds, copied out (not atomically as a whole: each figure is exact).
struct MetricsSnapshot {
  std::vector<ListenerFigures> listeners;
  std::array<std::uint64_t, static_cast<std::size_t>(Counter::kCount)> counters{};
  std::uint64_t reloads_ok = 0;
  std::uint64_t reloads_failed = 0;
  std::uint64_t worker_restarts = 0;
};

struct ListenerSlot;  // in the page; see metrics.cc
struct ProcessRow;    // likewise
class AccessLog;

/// Processes whose share of the `active` gauge is tracked, so that a process killed with
/// connections open does not leave them counted: its reaper calls forget_process().
inline constexpr std::size_t kProcessRows = 4096;

/// Maps the page. Call once in the main process before anything forks (like init_counters).
void init_metrics();

/// `pid` has exited (its parent reaped it): connections it still counted as active are taken
/// off the gauge. Call from whoever waits for the process. Any thread.
void forget_process(pid_t pid);

/// The slot of a listener, found by address and protocol (a listener kept across reloads keeps
/// its counters) or claimed. Main thread, before forking. Never nullptr.
ListenerSlot* listener_slot(std::string_view address, std::string_view protocol,
                            std::string_view transport);

/// A connection to the listener of `slot` was refused. Any thread, any process.
void count_refused(ListenerSlot* slot, RefuseReason reason);

/// The master counts reloads and respawns. Any process.
void count_reload(bool applied);
void count_worker_restart();

/// Copies the page. Any thread, any process.
MetricsSnapshot snapshot_metrics();

/// Counts one connection: its lifetime, bytes and timeouts (called by Connection) and its
/// requests (by the handler, through RequestMeter), and writes a line per request to its
/// listener's access log if it keeps one. One thread at a time, like the connection. A null
/// slot counts nothing (tests, the admin listener).
class ConnectionMeter final : public RequestMeter {
 public:
  /// Who the connection is, for the access log.
  struct Access {
    const AccessLog* log = nullptr;  ///< nullptr: none; else outlives the meter
    std::string_view peer;           ///< "HOST:PORT"; copied
    std::string_view local;          ///< "HOST:PORT"; copied
  };

  /// Counts an accepted, active connection until destroyed.
  explicit ConnectionMeter(ListenerSlot* slot);
  ConnectionMeter(ListenerSlot* slot, const Access& access);
  ~ConnectionMeter();
  ConnectionMeter(const ConnectionMeter&) = delete;
  ConnectionMeter& operator=(const ConnectionMeter&) = delete;

  void received(std::uint64_t bytes);
  void sent(std::uint64_t bytes);
  void timed_out(TimeoutKind kind);
  /// The connection was cut for holding more than limits.max_output_bytes of output.
  void output_limited();
  /// A request's first byte arrived at `at` (the connection reads it with nothing buffered).
  void request_began(Clock::time_point at) { began_ = at; }

  bool logs_requests() const override { return access_ != nullptr; }

 private:
  void count(std::optional<RequestError> error, const RequestSummary& summary) override;

  ListenerSlot* slot_;
  const AccessLog* access_;
  std::string peer_;           // empty unless access_
  std::string local_;          // likewise
  ProcessRow* row_ = nullptr;  // this process's share of the gauge, if it has a row
  Clock::time_point began_ = Clock::now();
};

}  // namespace srv
