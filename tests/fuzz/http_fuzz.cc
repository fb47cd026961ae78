// Fuzzes the HTTP handler, its request-head parser and its chunked decoder with arbitrary bytes.
// Beyond "no crash and no sanitizer report", it checks properties that hold for every input:
// - the handler's answers and its decision to close do not depend on how the bytes were split
//   into reads (the first input byte seeds the split);
// - every answer starts with a status line, no call consumes more than it was given, and no
//   call asks to close at once;
// - a complete head's views lie inside the input, the head parses the same when cut right after
//   it, and one byte less is incomplete;
// - the chunked decoder gives the same status, body and length byte by byte as in one piece.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http.h"
#include "protocols/http_chunked.h"
#include "protocols/http_parser.h"
#include "tests/handler_driver.h"
#include "tests/test_context.h"

namespace {

using srv::Clock;
using srv::Verdict;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "http_fuzz: %s\n", what);
  std::abort();
}

Clock::time_point fixed_now() {
  return Clock::time_point();
}

struct Run {
  std::string output;
  bool closes = false;
};

// Dates differ from run to run when a second ticks; blank them.
void blank_dates(std::string& text) {
  constexpr std::string_view kDate = "\r\nDate: ";
  for (std::size_t at = text.find(kDate); at != std::string::npos; at = text.find(kDate, at + 1)) {
    for (std::size_t i = at + kDate.size(); i < text.size() && text[i] != '\r'; ++i) text[i] = '#';
  }
}

Run run_handler(const std::vector<std::string_view>& pieces) {
  srv::HttpLimits limits;
  limits.max_header_bytes = 256;  // small, so the fuzzer reaches the limits too
  limits.max_body_bytes = 512;
  auto handler = srv::make_http_protocol(limits, fixed_now)->create(srv::test::test_context());
  srv::test::HandlerDriver driver = srv::test::drive(*handler, pieces);
  if (driver.overconsumed()) fail("a call consumed more than it was given");
  Run run{driver.sent(), false};
  for (Verdict v : driver.data_verdicts()) {
    if (v == Verdict::kCloseNow) fail("on_data returned kCloseNow");
    run.closes = run.closes || v == Verdict::kCloseAfterFlush;
  }
  if (!run.output.empty() && !run.output.starts_with("HTTP/1.1 ")) fail("no status line");
  blank_dates(run.output);
  return run;
}

void check_handler(std::uint8_t seed, std::string_view input) {
  Run whole = run_handler({input});
  std::vector<std::string_view> pieces;
  std::uint32_t state = seed * 2654435761u + 1;
  for (std::size_t at = 0; at < input.size();) {
    state = state * 1664525u + 1013904223u;
    std::size_t size = 1 + (state >> 24) % 17;
    pieces.push_back(input.substr(at, size));
    at += size;
  }
  Run split = run_handler(pieces);
  if (whole.output != split.output) fail("answers depend on how the input was split");
  if (whole.closes != split.closes) fail("closing depends on how the input was split");
}

void check_parser(std::string_view input) {
  srv::http::RequestHead head;
  srv::http::ParseResult r = srv::http::parse_request_head(input, head);
  if (r.status != srv::http::ParseStatus::kComplete) {
    if (r.consumed != 0) fail("an incomplete or invalid head consumed bytes");
    return;
  }
  if (r.consumed == 0 || r.consumed > input.size()) fail("complete head with a bad length");
  auto inside = [&](std::string_view v) {
    return v.data() >= input.data() && v.data() + v.size() <= input.data() + r.consumed;
  };
  if (!inside(head.method) || !inside(head.target)) fail("request line view outside the head");
  for (const srv::http::Header& h : head.headers()) {
    if (!inside(h.name) || !inside(h.value)) fail("header view outside the head");
  }
  srv::http::RequestHead again;
  srv::http::ParseResult cut = srv::http::parse_request_head(input.substr(0, r.consumed), again);
  if (cut.status != r.status || cut.consumed != r.consumed) fail("head parses differently alone");
  cut = srv::http::parse_request_head(input.substr(0, r.consumed - 1), again);
  if (cut.status != srv::http::ParseStatus::kIncomplete) fail("a head minus a byte not incomplete");
}

void check_chunked(std::string_view input) {
  srv::http::ChunkedDecoder whole;
  whole.reset(512, 256);
  std::string whole_body;
  srv::http::ChunkedResult a = whole.decode(input, &whole_body);

  srv::http::ChunkedDecoder bytes;
  bytes.reset(512, 256);
  std::string bytes_body;
  srv::http::ChunkedResult b;
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    b = bytes.decode(input.substr(i, 1), &bytes_body);
    consumed += b.consumed;
    if (b.status != srv::http::ChunkedStatus::kNeedMore) break;
  }
  if (input.empty()) return;
  if (a.status != b.status) fail("chunked status depends on the split");
  if (a.status == srv::http::ChunkedStatus::kNeedMore && a.consumed != input.size())
    fail("kNeedMore without consuming everything");
  if (a.status == srv::http::ChunkedStatus::kDone &&
      (a.consumed != consumed || whole_body != bytes_body))
    fail("chunked body depends on the split");
  if (whole_body.size() > 512 || whole.body_bytes() > 512) fail("body over max_body_bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_handler(data[0], input);
  check_parser(input);
  check_chunked(input);
  return 0;
}
