#include "protocols/http.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>

#include "protocols/http_parser.h"
#include "protocols/http_request.h"

namespace srv {
namespace {

using namespace std::chrono_literals;
using http::BodyKind;
using http::Error;
using http::Route;

// ---- Prebuilt responses ----------------------------------------------------------------------
// Every response is fixed text around the Date value, so answering is a few appends: the pieces
// are built once, never formatted per request (the echo's Content-Length aside).

constexpr std::string_view kStatus200 = "HTTP/1.1 200 OK\r\nServer: srv\r\nDate: ";
constexpr std::string_view kHelloHeaders = "\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n";
constexpr std::string_view kHelloBody = "Hello, World!";
constexpr std::string_view kHealthHeaders = "\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n";
constexpr std::string_view kHealthBody = "ok\n";
constexpr std::string_view kEchoHeaders =
    "\r\nContent-Type: application/octet-stream\r\nContent-Length: ";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// What ends the header section, by what happens to the connection afterwards.
constexpr std::string_view kEndKeepAlive11 = "\r\n";  // persistent is HTTP/1.1's default
constexpr std::string_view kEndKeepAlive10 = "Connection: keep-alive\r\n\r\n";
constexpr std::string_view kEndClose = "Connection: close\r\n\r\n";

constexpr std::string_view kRefusal =
    "HTTP/1.1 503 Service Unavailable\r\nServer: srv\r\nContent-Type: text/plain\r\n"
    "Content-Length: 20\r\nConnection: close\r\n\r\nService Unavailable\n";

struct CannedError {
  std::string before_date;  // status line .. "Date: "
  std::string after_date;   // "\r\n" .. the empty line
  std::string body;
};

CannedError make_error(std::string_view status, std::string_view extra_header,
                       std::string_view body) {
  std::string after = "\r\nContent-Type: text/plain\r\n";
  after += extra_header;
  after += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  after += kEndClose;
  return {"HTTP/1.1 " + std::string(status) + "\r\nServer: srv\r\nDate: ", after,
          std::string(body)};
}

const CannedError& canned(Error error) {
  // Built on first use (thread-safe static initialisation), then only read.
  static const std::array<CannedError, static_cast<std::size_t>(Error::kCount)> kTable = {
      make_error("400 Bad Request", "", "Bad Request\n"),
      make_error("404 Not Found", "", "Not Found\n"),
      make_error("405 Method Not Allowed", "Allow: GET, HEAD\r\n", "Method Not Allowed\n"),
      make_error("405 Method Not Allowed", "Allow: POST\r\n", "Method Not Allowed\n"),
      make_error("408 Request Timeout", "", "Request Timeout\n"),
      make_error("413 Content Too Large", "", "Content Too Large\n"),
      make_error("417 Expectation Failed", "", "Expectation Failed\n"),
      make_error("431 Request Header Fields Too Large", "", "Request Header Fields Too Large\n"),
      make_error("501 Not Implemented", "", "Not Implemented\n"),
      make_error("505 HTTP Version Not Supported", "", "HTTP Version Not Supported\n"),
  };
  return kTable[static_cast<std::size_t>(error)];
}

std::string_view current_date() {
  thread_local HttpDateCache cache;  // one per thread: no lock on the response path
  return cache.at(std::time(nullptr));
}

// Writes the error answer. A HEAD request's answer has the same headers and no body.
void write_error(Buffer& out, Error error, bool head_method = false) {
  const CannedError& e = canned(error);
  out.append(e.before_date);
  out.append(current_date());
  out.append(e.after_date);
  if (!head_method) out.append(e.body);
}

}  // namespace

// ---- Options, Date, factory ------------------------------------------------------------------

HttpLimits read_http_limits(Section& options) {
  HttpLimits limits;
  limits.max_header_bytes = static_cast<std::size_t>(options.bytes(
      "max_header_bytes", static_cast<std::int64_t>(limits.max_header_bytes), 256, 1 << 20));
  limits.max_body_bytes = static_cast<std::uint64_t>(options.bytes(
      "max_body_bytes", static_cast<std::int64_t>(limits.max_body_bytes), 0, 1LL << 30));
  limits.header_timeout = options.duration(
      "header_timeout", std::chrono::duration_cast<milliseconds>(limits.header_timeout), 100ms,
      std::chrono::hours(1));
  options.finish();
  return limits;
}

std::string_view HttpDateCache::at(std::time_t now) {
  if (valid_ && now == second_) return {text_, sizeof text_};
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&now, &tm);
  // Fixed width: "Sun, 06 Nov 1994 08:49:37 GMT" is always 29 bytes for years 1000-9999.
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                        tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                        tm.tm_sec);
  if (n != static_cast<int>(sizeof text_)) return {text_, valid_ ? sizeof text_ : 0};
  std::copy(buf, buf + sizeof text_, text_);
  second_ = now;
  valid_ = true;
  ++formats_;
  return {text_, sizeof text_};
}

namespace {

class HttpFactory final : public ProtocolFactory {
 public:
  HttpFactory(const HttpLimits& limits, SteadyNow now) : limits_(limits), now_(now) {}
  std::unique_ptr<ProtocolHandler> create(const ConnectionContext& context) override {
    return std::make_unique<HttpHandler>(limits_, now_, context.meter, context.draining);
  }
  std::string_view refusal() const override { return kRefusal; }

 private:
  HttpLimits limits_;
  SteadyNow now_;
};

}  // namespace

std::unique_ptr<ProtocolFactory> make_http_protocol(Section& options) {
  return make_http_protocol(read_http_limits(options));
}

std::unique_ptr<ProtocolFactory> make_http_protocol(const HttpLimits& limits, SteadyNow now) {
  return std::make_unique<HttpFactory>(limits, now);
}

std::string_view http_refusal() {
  return kRefusal;
}

// ---- The handler -----------------------------------------------------------------------------

HttpHandler::HttpHandler(const HttpLimits& limits, SteadyNow now, RequestMeter& meter,
                         const std::atomic<bool>* draining)
    : limits_(limits), now_(now), meter_(meter), draining_(draining) {}

void HttpHandler::fail(Buffer& out, Error error, std::size_t consumed, bool head_method) {
  std::size_t reply_at = out.size();
  write_error(out, error, head_method);
  bool server = error == Error::k501NotImplemented || error == Error::k505Version;
  // "HTTP/1.1 404 ...": the code is the canned status line's second word.
  std::string_view status = std::string_view(canned(error).before_date).substr(9, 3);
  meter_.request_error(server ? RequestError::kServer : RequestError::kClient,
                       {access_request_, status, request_bytes_ + consumed, out.size() - reply_at});
  access_request_.clear();
  request_bytes_ = 0;
}

Step HttpHandler::on_data(std::string_view in, Buffer& out) {
  return state_ == State::kHead ? on_head(in, out) : on_body(in, out);
}

Step HttpHandler::on_head(std::string_view in, Buffer& out) {
  if (head_deadline_ == Clock::time_point::max()) head_deadline_ = now_() + limits_.header_timeout;
  // The parser is stateless, so each attempt starts over. Bytes that only extend the token or
  // value the last attempt ended in cannot change its verdict (still incomplete), so they need
  // no new attempt: a client sending one byte at a time does not cost a re-parse per byte.
  if (head_scanned_ > 0 && in.size() <= limits_.max_header_bytes &&
      http::continues_pending(head_pending_, in.substr(head_scanned_))) {
    head_scanned_ = in.size();
    return {0, Verdict::kContinue};
  }
  // The verdict depends on the first max_header_bytes only, however the bytes were split.
  // Views into `in` are used within this call only, so one head per thread serves every
  // connection of that thread (kMaxHeaders entries are too many to keep per connection).
  thread_local http::RequestHead head;
  http::ParseResult parsed = http::parse_request_head(in.substr(0, limits_.max_header_bytes), head);
  switch (parsed.status) {
    case http::ParseStatus::kIncomplete:
      if (in.size() > limits_.max_header_bytes) {
        fail(out, Error::k431HeadTooLarge, in.size());
        return {in.size(), Verdict::kCloseAfterFlush};
      }
      head_scanned_ = in.size();
      head_pending_ = parsed.pending;
      return {0, Verdict::kContinue};
    case http::ParseStatus::kInvalid:
      fail(out, Error::k400BadRequest, in.size());
      return {in.size(), Verdict::kCloseAfterFlush};
    case http::ParseStatus::kTooManyHeaders:
      fail(out, Error::k431HeadTooLarge, in.size());
      return {in.size(), Verdict::kCloseAfterFlush};
    case http::ParseStatus::kComplete:
      break;
  }
  head_deadline_ = Clock::time_point::max();
  head_scanned_ = 0;

  if (meter_.logs_requests()) {
    access_request_.assign(head.method);
    access_request_ += ' ';
    access_request_ += head.target;
  }
  http::RequestPlan plan = http::analyze_request(head, limits_.max_body_bytes);
  if (plan.error) {
    fail(out, *plan.error, in.size(), plan.head_method);
    return {in.size(), Verdict::kCloseAfterFlush};
  }
  route_ = plan.route;
  head_method_ = plan.head_method;
  keep_alive_ = plan.keep_alive;
  http10_ = plan.http10;
  chunked_ = plan.body == BodyKind::kChunked;
  body_remaining_ = plan.content_length;
  body_.clear();
  request_bytes_ = parsed.consumed;
  if (plan.body == BodyKind::kNone) return {parsed.consumed, finish_request(out)};
  if (chunked_) chunked_decoder_.reset(limits_.max_body_bytes, limits_.max_header_bytes);
  if (route_ == Route::kEcho && !chunked_) body_.reserve(plan.content_length);
  if (plan.expect_continue) out.append(kContinue);
  state_ = State::kBody;
  return {parsed.consumed, Verdict::kContinue};
}

Step HttpHandler::on_body(std::string_view in, Buffer& out) {
  std::string* sink = route_ == Route::kEcho ? &body_ : nullptr;  // other routes drop the body
  if (!chunked_) {
    std::size_t take = static_cast<std::size_t>(
        std::min<std::uint64_t>(body_remaining_, static_cast<std::uint64_t>(in.size())));
    if (sink) sink->append(in.substr(0, take));
    body_remaining_ -= take;
    request_bytes_ += take;
    return {take, body_remaining_ == 0 ? finish_request(out) : Verdict::kContinue};
  }
  http::ChunkedResult result = chunked_decoder_.decode(in, sink);
  request_bytes_ += result.consumed;
  switch (result.status) {
    case http::ChunkedStatus::kNeedMore:
      return {result.consumed, Verdict::kContinue};
    case http::ChunkedStatus::kDone:
      return {result.consumed, finish_request(out)};
    case http::ChunkedStatus::kInvalid:
      fail(out, Error::k400BadRequest, in.size() - result.consumed);
      break;
    case http::ChunkedStatus::kBodyTooLarge:
      fail(out, Error::k413TooLarge, in.size() - result.consumed);
      break;
    case http::ChunkedStatus::kTrailersTooLarge:
      fail(out, Error::k431HeadTooLarge, in.size() - result.consumed);
      break;
  }
  return {in.size(), Verdict::kCloseAfterFlush};
}

Verdict HttpHandler::finish_request(Buffer& out) {
  state_ = State::kHead;
  // Draining (a reload): this answer is the last, so the client reconnects to the new
  // generation at a request boundary instead of finding its keep-alive connection closed.
  if (draining_ && draining_->load(std::memory_order_relaxed)) keep_alive_ = false;
  const std::size_t reply_at = out.size();
  out.append(kStatus200);
  out.append(current_date());
  std::string_view end = !keep_alive_ ? kEndClose : http10_ ? kEndKeepAlive10 : kEndKeepAlive11;
  switch (route_) {
    case Route::kRoot:
    case Route::kHealthz: {
      bool root = route_ == Route::kRoot;
      out.append(root ? kHelloHeaders : kHealthHeaders);
      out.append(end);
      if (!head_method_) out.append(root ? kHelloBody : kHealthBody);
      break;
    }
    case Route::kEcho: {
      char digits[std::numeric_limits<std::uint64_t>::digits10 + 1];
      auto [digits_end, ec] = std::to_chars(digits, digits + sizeof digits, body_.size());
      (void)ec;  // the buffer fits any size_t
      out.append(kEchoHeaders);
      out.append({digits, static_cast<std::size_t>(digits_end - digits)});
      out.append("\r\n");
      out.append(end);
      out.append(body_);
      // A large echo should not pin its memory to an idle keep-alive connection.
      if (body_.capacity() > 64 * 1024) {
        std::string().swap(body_);
      } else {
        body_.clear();
      }
      break;
    }
  }
  meter_.request_done({access_request_, "200", request_bytes_, out.size() - reply_at});
  access_request_.clear();
  request_bytes_ = 0;
  return keep_alive_ ? Verdict::kContinue : Verdict::kCloseAfterFlush;
}

Verdict HttpHandler::on_eof(std::string_view rest, Buffer& out) {
  (void)rest;  // an incomplete request: nginx closes without an answer, and so does srv
  (void)out;
  return Verdict::kCloseAfterFlush;
}

void HttpHandler::on_read_timeout(Buffer& out) {
  fail(out, Error::k408Timeout, 0);
}

Verdict HttpHandler::on_deadline(Buffer& out) {
  if (head_deadline_ == Clock::time_point::max()) return Verdict::kContinue;
  head_deadline_ = Clock::time_point::max();
  fail(out, Error::k408Timeout, 0);
  return Verdict::kCloseAfterFlush;
}

}  // namespace srv
