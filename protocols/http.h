#pragma once

// HTTP/1.1 origin server with three resources: GET/HEAD / ("Hello, World!"), GET/HEAD /healthz
// and POST /echo (the request body comes back). Persistent connections, pipelining (answers in
// request order), Content-Length and chunked request bodies, limits on head size, body size and
// the time to send a head, and the request-smuggling defenses of RFC 9112.
//
// Every answer with a status of 400 or above carries `Connection: close` and ends the connection
// (kCloseAfterFlush), 404 and 405 included: after an error nothing about the rest of the stream
// is trusted. Responses are always HTTP/1.1 with Content-Length, never chunked.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "config/section.h"
#include "protocols/http_chunked.h"
#include "protocols/http_parser.h"
#include "protocols/http_request.h"
#include "server/clock.h"
#include "server/protocol.h"

namespace srv {

/// The options of an http listener (`protocol: {name: http, options: {...}}`).
struct HttpLimits {
  /// Request line plus header fields plus the final CRLF (and, separately, a chunked body's
  /// trailer section). More answers 431 and closes. Also bounded by limits.max_input_buffer,
  /// past which the connection closes without an answer.
  std::size_t max_header_bytes = 8 * 1024;
  /// Request body (decoded chunk data for chunked bodies). More answers 413 and closes.
  std::uint64_t max_body_bytes = 1024 * 1024;
  /// From the first byte of a request head to its last. Longer answers 408 and closes. The wait
  /// for the first byte is the server's idle_timeout instead.
  Clock::duration header_timeout = std::chrono::seconds(10);
};

/// Reads and validates the http options (throws ConfigError at `file:line:col`, also for an
/// unknown key).
HttpLimits read_http_limits(Section& options);

/// The value of a Date header ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 §5.6.7), formatted
/// only when the second changes. Not thread-safe: the handler keeps one per thread.
class HttpDateCache {
 public:
  /// The date for `now` (seconds since the epoch). The view is valid until the next call.
  std::string_view at(std::time_t now);
  /// How many times a date was formatted (for tests of the caching).
  std::size_t formats() const { return formats_; }

 private:
  std::time_t second_ = 0;
  bool valid_ = false;
  std::size_t formats_ = 0;
  char text_[29] = {};
};

/// Where the handler reads the time for its header deadline; tests inject a fake clock.
using SteadyNow = Clock::time_point (*)();

/// One connection's HTTP state. Used on one thread at a time, like every handler.
class HttpHandler final : public ProtocolHandler {
 public:
  /// Counts each request answered into `meter`, which outlives the handler. `draining`
  /// (ConnectionContext::draining, may be null): once set, each answer says
  /// `Connection: close` and the connection closes after it.
  HttpHandler(const HttpLimits& limits, SteadyNow now, RequestMeter& meter = null_meter(),
              const std::atomic<bool>* draining = nullptr);

  /// Consumes at most one request head or a piece of the current body per call, appending the
  /// answers in request order to `out`. Keeps no view of `in` past the call.
  Step on_data(std::string_view in, Buffer& out) override;
  /// A partial request at EOF is dropped without an answer, as nginx does; answers to complete
  /// requests are already in `out` and are flushed.
  Verdict on_eof(std::string_view rest, Buffer& out) override;
  /// Set while a request head is being received: its first byte's arrival + header_timeout.
  Clock::time_point deadline() const override { return head_deadline_; }
  /// Answers 408 and closes.
  Verdict on_deadline(Buffer& out) override;
  /// A body is consumed as it arrives: the request is unfinished until its last byte.
  bool request_unfinished() const override { return state_ == State::kBody; }
  /// read_timeout or min_rate cut the request: 408, as for a head over header_timeout.
  void on_read_timeout(Buffer& out) override;

 private:
  enum class State { kHead, kBody };

  Step on_head(std::string_view in, Buffer& out);
  Step on_body(std::string_view in, Buffer& out);
  /// The request is complete: answers it and gets ready for the next one.
  Verdict finish_request(Buffer& out);
  /// Answers with `error` (see write_error) and counts the request as failed; `consumed`: bytes
  /// of it the caller consumes now, beyond request_bytes_.
  void fail(Buffer& out, http::Error error, std::size_t consumed, bool head_method = false);

  HttpLimits limits_;
  SteadyNow now_;
  RequestMeter& meter_;
  const std::atomic<bool>* draining_;
  State state_ = State::kHead;
  Clock::time_point head_deadline_ = Clock::time_point::max();
  std::size_t head_scanned_ = 0;  // bytes of the pending head already parsed (incomplete)
  http::Pending head_pending_ = http::Pending::kOther;  // where that parse ran out

  // The request being served, copied out of the head before its bytes are consumed.
  http::Route route_ = http::Route::kRoot;
  bool head_method_ = false;  // HEAD: answer without a body
  bool keep_alive_ = true;
  bool http10_ = false;
  bool chunked_ = false;
  std::uint64_t body_remaining_ = 0;  // Content-Length bytes still to read
  http::ChunkedDecoder chunked_decoder_;
  std::string body_;                 // POST /echo only
  std::uint64_t request_bytes_ = 0;  // consumed of the request being served (access log)
  std::string access_request_;       // "METHOD target", only while meter_.logs_requests()
};

/// The factory of an http listener, from its options (throws ConfigError).
std::unique_ptr<ProtocolFactory> make_http_protocol(Section& options);
/// The same from limits already read, with an injectable clock for the header deadline.
std::unique_ptr<ProtocolFactory> make_http_protocol(const HttpLimits& limits,
                                                    SteadyNow now = &Clock::now);

/// What a connection refused over capacity receives: a complete 503 with Connection: close. A
/// constant, so it carries no Date header.
std::string_view http_refusal();

}  // namespace srv
