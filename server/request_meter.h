#pragma once

// How a protocol handler reports its requests to the server's metrics and access log: through
// the meter in its ConnectionContext, never through globals. The connection behind it adds to
// counters in shared memory (a relaxed atomic add or two per request) and, when its listener
// keeps an access log, writes one line per request; plugins call it like built-in protocols.

#include <cstdint>
#include <optional>
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

/// What the access log says about one request beyond what the connection knows (peer,
/// listener, duration). Views are read during the call only. Everything is optional: an empty
/// field is logged as "-" (a plugin that says nothing still gets a line per request).
struct RequestSummary {
  std::string_view request;     ///< what was asked: "GET /index.html", a RESP command name
  std::string_view status;      ///< how it was answered: "200", "ok", "error"
  std::uint64_t bytes_in = 0;   ///< bytes of the request (head and body, or the command)
  std::uint64_t bytes_out = 0;  ///< bytes of its reply
};

/// Counts one connection's requests. Owned by the connection, which outlives its handler; used
/// on the thread that drives the connection (the handler's). Call exactly one of the two per
/// request answered; the duration is measured from the request's first byte (or, pipelined,
/// from the end of the request before it) to the call.
class RequestMeter {
 public:
  /// A request was answered successfully.
  void request_done(const RequestSummary& summary = {}) { count(std::nullopt, summary); }
  /// A request was answered with an error of `kind` (counted as a request and as an error).
  void request_error(RequestError kind, const RequestSummary& summary = {}) {
    count(kind, summary);
  }
  /// True when the listener keeps an access log, so that a summary is read: a handler may skip
  /// building one (copying a path, say) when this is false. Fixed for the connection's life.
  virtual bool logs_requests() const = 0;

 protected:
  ~RequestMeter() = default;
  /// One request answered: `error` says how it failed (nullopt: it did not).
  virtual void count(std::optional<RequestError> error, const RequestSummary& summary) = 0;
};

/// A meter that counts nothing: the default in ConnectionContext, for tests and tools.
inline RequestMeter& null_meter() {
  struct Null final : RequestMeter {
    bool logs_requests() const override { return false; }
    void count(std::optional<RequestError>, const RequestSummary&) override {}
  };
  static Null meter;
  return meter;
}

}  // namespace srv
