#pragma once

// Event counters shared by every process of the server. They live in one anonymous MAP_SHARED
// page mapped before any fork, so forked connection processes and prefork workers add to the
// same totals the master sees; the metrics endpoint will read them from there. The same page
// numbers connections across processes.

#include <cstdint>
#include <string_view>

namespace srv {

enum class Counter : std::uint8_t {
  kRefused,              ///< connections refused at a cap
  kTlsHandshakes,        ///< completed TLS handshakes
  kTlsResumed,           ///< of which resumed a session
  kTlsFailedVersion,     ///< client offered only versions below min_version
  kTlsFailedCipher,      ///< no cipher in common
  kTlsFailedClientCert,  ///< no, or an unverifiable, client certificate when one is required
  kTlsFailedAlpn,        ///< no application protocol in common
  kTlsFailedPlaintext,   ///< a plaintext HTTP request on a TLS port
  kTlsFailedMalformed,   ///< bytes that are not a TLS handshake
  kTlsFailedTimeout,     ///< handshake unfinished after tls.handshake_timeout
  kTlsFailedClosed,      ///< the client went away mid-handshake
  kTlsFailedOther,       ///< any other handshake failure
  kRespCrossProtocol,    ///< resp connections closed for sending POST or Host: (HTTP)
  kSlowRequests,         ///< requests cut by read_timeout or min_rate
  kSlowReaders,          ///< clients cut by write_timeout or min_rate for not reading replies
  kReloads,              ///< reloads that started a new generation
  kReloadsRefused,       ///< reloads refused: the config was invalid or a listener failed
  kReloadsFailed,        ///< reloads whose new generation died as it started
  kGenerationRestarts,   ///< generations started again after they died
  kOutputLimited,        ///< connections cut for holding more than limits.max_output_bytes
  kCount,
};

/// Snake-case name, as the metrics endpoint will show it ("tls_failed_version").
std::string_view counter_name(Counter counter);

/// Maps the shared page. Call once in the main process before anything forks; later calls (and
/// uses without it, in tests) are harmless but then each process counts on its own.
void init_counters();

/// Adds `n` and returns the new total. Any thread, any process. Lock-free.
std::uint64_t count(Counter counter, std::uint64_t n = 1);

/// The current total.
std::uint64_t counter_value(Counter counter);

/// A connection id unique across every process of the server for its life, never 0. Any thread,
/// any process. Lock-free.
std::uint64_t next_connection_id();

/// True at most once per second for each `counter` across every process of the server: a flood
/// of the same event logs one line a second, each line giving the running total.
bool log_allowed(Counter counter);

}  // namespace srv
