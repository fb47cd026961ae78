#pragma once

// How a protocol handler reports its requests to the server's metrics: through the meter in its
// ConnectionContext, never through globals. The connection behind it adds to counters in shared
// memory (a relaxed atomic add or two per request); plugins call it like built-in protocols.

#include <cstdint>
#include <string_view>

namespace srv {

/// Why a request failed, as srv_request_errors_total{kind} shows it. A fixed set, so that every
/// kind has its own counter in the shared page.
enum class RequestError : std::uint8_t {
  kClient,     ///< "4xx": the client's mistake (HTTP 4xx, a malformed request)
  kServer,     ///< "5xx": the server's failure (HTTP 5xx, an internal error)
  kErr,        ///< "err": RESP -ERR
  kWrongType,  ///< "wrongtype": RESP -WRONGTYPE
  kNoAuth,     ///< "noauth": RESP -NOAUTH
  kOther,      ///< "other": any other error reply
  kCount,
};

/// The label value of `kind` ("4xx", "err", ...).
constexpr std::string_view request_error_name(RequestError kind) {
  constexpr std::string_view kNames[] = {"4xx", "5xx", "err", "wrongtype", "noauth", "other"};
  return kNames[static_cast<std::size_t>(kind)];
}

/// Counts one connection's requests. Owned by the connection, which outlives its handler; used
/// on the thread that drives the connection (the handler's). Call exactly one of the two per
/// request answered; the duration is measured from the request's first byte (or, pipelined,
/// from the end of the request before it) to the call.
class RequestMeter {
 public:
  /// A request was answered successfully.
  virtual void request_done() = 0;
  /// A request was answered with an error of `kind` (counted as a request and as an error).
  virtual void request_error(RequestError kind) = 0;

 protected:
  ~RequestMeter() = default;
};

/// A meter that counts nothing: the default in ConnectionContext, for tests and tools.
inline RequestMeter& null_meter() {
  struct Null final : RequestMeter {
    void request_done() override {}
    void request_error(RequestError) override {}
  };
  static Null meter;
  return meter;
}

}  // namespace srv
