#pragma once

// The admin listener's protocol: GET /metrics (Prometheus text), /status (JSON) and /healthz
// over HTTP/1.1, for peers in an allow list. It needs only the shared metrics page and a
// StatusSource, so the master can serve it as it is; until the master exists, run_server adds
// it as one more listener of the running strategy.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/metrics_render.h"
#include "server/protocol.h"

namespace srv {

/// An address range ("127.0.0.0/8", "::1", "10.1.2.3/32").
struct AddressRange {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  ///< network order; IPv4 uses the first 4
  int prefix = 0;                        ///< leading bits that must match
};

/// Parses "ADDRESS" or "ADDRESS/PREFIX" (IPv4 or IPv6). False with `error` set otherwise.
bool parse_address_range(std::string_view text, AddressRange& out, std::string& error);

/// True if the peer ("HOST:PORT", "[V6]:PORT", as ConnectionContext::peer) lies in a range.
/// An IPv4-mapped IPv6 peer (::ffff:a.b.c.d, on a dual-stack listener) matches IPv4 ranges.
bool peer_allowed(std::string_view peer, const std::vector<AddressRange>& allow);

/// The ranges allowed when the config names none: loopback (127.0.0.0/8 and ::1).
std::vector<AddressRange> loopback_ranges();

/// Says what the server is at the moment of a request. Called on the thread and in the process
/// that serves the admin connection (any thread, a forked child): must be safe there.
using StatusSource = std::function<StatusInfo()>;

/// The factory of the admin listener. Thread- and fork-safe.
std::unique_ptr<ProtocolFactory> make_admin_protocol(std::vector<AddressRange> allow,
                                                     StatusSource status);

}  // namespace srv
