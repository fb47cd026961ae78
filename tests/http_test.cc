#include "protocols/http.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <ostream>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "config/section.h"
#include "server/buffer.h"
#include "server/protocol.h"
#include "tests/handler_driver.h"
#include "tests/test_context.h"

namespace srv {
namespace {

using namespace std::chrono_literals;
using test::HandlerDriver;
using test::split_bytes;
using test::split_in_two;
using test::verdict_name;

// ---- Expected responses, written from RFC 9110/9112 and the issue, not from http.cc ----------

constexpr std::string_view kKeep = "";  // HTTP/1.1 persistent: no Connection header
constexpr std::string_view kKeep10 = "Connection: keep-alive\r\n";
constexpr std::string_view kClose = "Connection: close\r\n";

std::string response(std::string_view status, std::string_view type, std::string_view body,
                     std::string_view connection, bool with_body = true,
                     std::string_view extra = "") {
  std::string r = "HTTP/1.1 " + std::string(status) + "\r\nServer: srv\r\nDate: <date>\r\n";
  r += "Content-Type: " + std::string(type) + "\r\n";
  r += extra;
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += connection;
  r += "\r\n";
  if (with_body) r += body;
  return r;
}
std::string hello(std::string_view connection = kKeep, bool with_body = true) {
  return response("200 OK", "text/plain", "Hello, World!", connection, with_body);
}
std::string health(std::string_view connection = kKeep, bool with_body = true) {
  return response("200 OK", "text/plain", "ok\n", connection, with_body);
}
std::string echoed(std::string_view body, std::string_view connection = kKeep) {
  return response("200 OK", "application/octet-stream", body, connection);
}
std::string error(std::string_view status, std::string_view body, bool with_body = true,
                  std::string_view extra = "") {
  return response(status, "text/plain", body, kClose, with_body, extra);
}
const std::string k400 = error("400 Bad Request", "Bad Request\n");
const std::string k404 = error("404 Not Found", "Not Found\n");
const std::string k405Get =
    error("405 Method Not Allowed", "Method Not Allowed\n", true, "Allow: GET, HEAD\r\n");
const std::string k405Post =
    error("405 Method Not Allowed", "Method Not Allowed\n", true, "Allow: POST\r\n");
const std::string k408 = error("408 Request Timeout", "Request Timeout\n");
const std::string k413 = error("413 Content Too Large", "Content Too Large\n");
const std::string k417 = error("417 Expectation Failed", "Expectation Failed\n");
const std::string k431 =
    error("431 Request Header Fields Too Large", "Request Header Fields Too Large\n");
const std::string k501 = error("501 Not Implemented", "Not Implemented\n");
const std::string k505 = error("505 HTTP Version Not Supported", "HTTP Version Not Supported\n");
constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";

// Replaces each well-formed Date value with "<date>"; a malformed one is left to fail the
// comparison.
std::string normalize_dates(const std::string& text) {
  static const std::regex kDate(
      "\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
      "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} "
      "GMT\r\n");
  return std::regex_replace(text, kDate, "\r\nDate: <date>\r\n");
}

// ---- The table -------------------------------------------------------------------------------

Clock::time_point g_fake_now = Clock::time_point() + 1000h;
Clock::time_point fake_now() {
  return g_fake_now;
}

struct HttpCase {
  std::string name;
  std::string input;
  std::string output;  // Date values as "<date>"
  bool closes;         // an on_data verdict was kCloseAfterFlush (else the peer's EOF ends it)
  HttpLimits limits = {};
};

void PrintTo(const HttpCase& c, std::ostream* os) {
  *os << c.name;
}

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

std::string post_echo(std::string_view body) {
  return "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}
std::string with_headers(std::string_view request_line, std::string_view headers,
                         std::string_view body = "") {
  return std::string(request_line) + "\r\nHost: x\r\n" + std::string(headers) + "\r\n" +
         std::string(body);
}
std::string post_chunked(std::string_view chunked_body, std::string_view extra = "") {
  return with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: chunked\r\n" + std::string(extra),
                      chunked_body);
}

HttpLimits small_limits() {
  HttpLimits l;
  l.max_header_bytes = 256;
  l.max_body_bytes = 16;
  return l;
}

std::vector<HttpCase> http_cases() {
  const std::string binary("\0\r\n\xff\x7f\r\n\r\n", 8);
  return {
      // Resources.
      {"GetRoot", std::string(kGet), hello(), false},
      {"HeadRootHasLengthNoBody", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", hello(kKeep, false), false},
      {"GetHealthz", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", health(), false},
      {"HeadHealthz", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", health(kKeep, false), false},
      {"QueryIgnored", "GET /?a=b&c HTTP/1.1\r\nHost: x\r\n\r\n", hello(), false},
      {"AbsoluteForm", "GET http://x:80/healthz?q HTTP/1.1\r\nHost: x\r\n\r\n", health(), false},
      {"AbsoluteFormNoPath", "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", hello(), false},
      {"LeadingCrlfSkipped", "\r\n" + std::string(kGet), hello(), false},
      {"EchoContentLength", post_echo("hello"), echoed("hello"), false},
      {"EchoBinary", post_echo(binary), echoed(binary), false},
      {"EchoEmpty", post_echo(""), echoed(""), false},
      {"EchoNoBodyHeaders", "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", echoed(""), false},
      {"EchoSameLengthTwice",
       with_headers("POST /echo HTTP/1.1", "Content-Length: 3\r\ncontent-length: 3, 3\r\n", "abc"),
       echoed("abc"), false},
      {"EchoChunked", post_chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), echoed("hello world"),
       false},
      {"EchoChunkedExtensionsTrailers",
       post_chunked("3;x=1\r\nabc\r\n1;y=\"z w\"\r\nd\r\n0\r\nX-Check: 1\r\n\r\n"), echoed("abcd"),
       false},
      {"EchoChunkedCaseInsensitive",
       with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: CHUNKED\r\n", "1\r\nz\r\n0\r\n\r\n"),
       echoed("z"), false},
      {"GetBodyIsReadAndDropped",
       with_headers("GET / HTTP/1.1", "Content-Length: 4\r\n", "abcd") + std::string(kGet),
       hello() + hello(), false},
      {"GetChunkedBodyIsDropped",
       with_headers("GET /healthz HTTP/1.1", "Transfer-Encoding: chunked\r\n",
                    "2\r\nab\r\n0\r\n\r\n"),
       health(), false},
      {"ExpectContinue",
       with_headers("POST /echo HTTP/1.1", "Expect: 100-continue\r\nContent-Length: 2\r\n", "hi"),
       std::string(k100) + echoed("hi"), false},
      {"ExpectContinueWithoutBody", with_headers("POST /echo HTTP/1.1", "Expect: 100-continue\r\n"),
       echoed(""), false},
      // Connections.
      {"Pipelined",
       std::string(kGet) + post_echo("one") + "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" +
           post_chunked("3\r\ntwo\r\n0\r\n\r\n") + std::string(kGet),
       hello() + echoed("one") + health(kKeep, false) + echoed("two") + hello(), false},
      {"ConnectionClose",
       with_headers("GET / HTTP/1.1", "Connection: close\r\n") + std::string(kGet), hello(kClose),
       true},
      {"ConnectionCloseInList", with_headers("GET / HTTP/1.1", "Connection: keep-alive, CLOSE\r\n"),
       hello(kClose), true},
      {"Http10ClosesByDefault", "GET / HTTP/1.0\r\n\r\n" + std::string(kGet), hello(kClose), true},
      {"Http10KeepAlive",
       "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
       "POST /echo HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n!"
       "GET /healthz HTTP/1.0\r\n\r\n",
       hello(kKeep10) + echoed("!", kKeep10) + health(kClose), true},
      {"Http10KeepAliveThenClose",
       "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", hello(kClose),
       true},
      {"ErrorAfterGoodRequest", std::string(kGet) + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
       hello() + k404, true},
      // Routing errors.
      {"NotFound", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", k404, true},
      {"NotFoundHeadNoBody", "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
       error("404 Not Found", "Not Found\n", false), true},
      {"PostRoot", post_echo("x").replace(5, 5, "/"), k405Get, true},
      {"GetEcho", "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", k405Post, true},
      {"HeadEcho", "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n",
       error("405 Method Not Allowed", "Method Not Allowed\n", false, "Allow: POST\r\n"), true},
      {"PutNotImplemented", "PUT / HTTP/1.1\r\nHost: x\r\n\r\n", k501, true},
      {"UnknownMethod", "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", k501, true},
      {"MethodIsCaseSensitive", "get / HTTP/1.1\r\nHost: x\r\n\r\n", k501, true},
      {"Http2", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", k505, true},
      {"AsteriskTarget", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", k400, true},
      {"AuthorityTarget", "GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n", k400, true},
      {"UnknownExpectation", with_headers("POST /echo HTTP/1.1", "Expect: teapot\r\n"), k417, true},
      // Malformed.
      {"BadRequestLine", "HELLO\r\n\r\n", k400, true},
      // Found by the fuzzer: an invalid byte is answered at once, not at the next line end.
      {"InvalidByteBeforeLineEnd",
       "GET / HTTP/1.1\r\nX: a\x07"
       "b",
       k400, true},
      {"InvalidMethodByte", "G(T", k400, true},
      {"MissingHost", "GET / HTTP/1.1\r\n\r\n", k400, true},
      {"TwoHosts", with_headers("GET / HTTP/1.1", "Host: y\r\n"), k400, true},
      {"BareLf", "GET / HTTP/1.1\nHost: x\n\n", k400, true},
      {"ObsFold", with_headers("GET / HTTP/1.1", "X-A: 1\r\n  continued\r\n"), k400, true},
      {"SpaceBeforeColon", with_headers("GET / HTTP/1.1", "X-A : 1\r\n"), k400, true},
      {"NulInHeader", with_headers("GET / HTTP/1.1", std::string("X-A: \0\r\n", 8)), k400, true},
      // Request smuggling.
      {"TeAndCl",
       with_headers("POST /echo HTTP/1.1", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                    "0\r\n\r\n"),
       k400, true},
      {"ClAndTe",
       with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
                    "0\r\n\r\n"),
       k400, true},
      {"TwoDifferentLengths",
       with_headers("POST /echo HTTP/1.1", "Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
       k400, true},
      {"LengthList", with_headers("POST /echo HTTP/1.1", "Content-Length: 5, 6\r\n", "hello!"),
       k400, true},
      {"LengthNotNumber", with_headers("POST /echo HTTP/1.1", "Content-Length: abc\r\n"), k400,
       true},
      {"LengthSigned", with_headers("POST /echo HTTP/1.1", "Content-Length: +5\r\n", "hello"), k400,
       true},
      {"LengthNegative", with_headers("POST /echo HTTP/1.1", "Content-Length: -1\r\n"), k400, true},
      {"LengthEmpty", with_headers("POST /echo HTTP/1.1", "Content-Length:\r\n"), k400, true},
      {"LengthOverflow",
       with_headers("POST /echo HTTP/1.1", "Content-Length: 99999999999999999999999\r\n"), k400,
       true},
      {"TeNotChunked", with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: gzip\r\n"), k400,
       true},
      {"TeChunkedNotLast",
       with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: chunked, gzip\r\n"), k400, true},
      {"TeChunkedTwice",
       with_headers("POST /echo HTTP/1.1",
                    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
       k400, true},
      {"TeLookalike", with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: xchunked\r\n"), k400,
       true},
      {"TeWithParameter", with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: chunked;q=1\r\n"),
       k400, true},
      {"TeEmpty", with_headers("POST /echo HTTP/1.1", "Transfer-Encoding:\r\n"), k400, true},
      {"TeUnknownCodingBeforeChunked",
       with_headers("POST /echo HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n"), k501, true},
      {"TeInHttp10", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
       k400, true},
      {"ChunkSizeNotHex", post_chunked("zz\r\nhello\r\n0\r\n\r\n"), k400, true},
      {"ChunkSizeNegative", post_chunked("-5\r\nhello\r\n0\r\n\r\n"), k400, true},
      {"ChunkSizeOverflow", post_chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"), k400, true},
      {"ChunkMissingCrlf", post_chunked("5\r\nhelloGET / HTTP/1.1\r\n"), k400, true},
      {"ChunkBareLf", post_chunked("5\nhello\n0\n\n"), k400, true},
      // Limits (small_limits: 256 header bytes, 16 body bytes).
      {"BodyAtLimit", post_echo("0123456789abcdef"), echoed("0123456789abcdef"), false,
       small_limits()},
      {"BodyOverLimit", post_echo("0123456789abcdefg"), k413, true, small_limits()},
      {"ChunkedOverLimit", post_chunked("9\r\n012345678\r\n9\r\n012345678\r\n0\r\n\r\n"), k413,
       true, small_limits()},
      {"HeadOverLimit", with_headers("GET / HTTP/1.1", "X-Big: " + std::string(300, 'b') + "\r\n"),
       k431, true, small_limits()},
      {"HeadOverLimitNoEnd", "GET / HTTP/1.1\r\nX-Big: " + std::string(300, 'b'), k431, true,
       small_limits()},
      // 16 + 9 + 3 + 224 + 2 + 2 = 256 bytes of head.
      {"HeadAtLimit", with_headers("GET / HTTP/1.1", "X: " + std::string(224, 'b') + "\r\n"),
       hello(), false, small_limits()},
      {"HeadOneOverLimit", with_headers("GET / HTTP/1.1", "X: " + std::string(225, 'b') + "\r\n"),
       k431, true, small_limits()},
      {"TooManyHeaders",
       with_headers("GET / HTTP/1.1",
                    [] {
                      std::string h;
                      for (int i = 0; i < 101; ++i) h += "A:\r\n";
                      return h;
                    }()),
       k431, true},
      {"TrailersOverLimit",
       post_chunked("1\r\nx\r\n0\r\nX-T: " + std::string(300, 't') + "\r\n\r\n"), k431, true,
       small_limits()},
      // End of input.
      {"EofMidHeadIsSilent", "GET / HTTP/1.1\r\nHost: x\r\n", "", false},
      {"EofMidBodyIsSilent", post_echo("hello").substr(0, 52), "", false},
      {"EofAfterRequestThenPartial", std::string(kGet) + "GET /healthz HT", hello(), false},
  };
}

struct Outcome {
  std::string output;
  bool closes = false;
  std::string error;  // a contract violation, or empty
};

Outcome run(const HttpCase& c, const std::vector<std::string_view>& pieces) {
  auto factory = make_http_protocol(c.limits, fake_now);
  auto handler = factory->create(test::test_context());
  HandlerDriver driver = test::drive(*handler, pieces);
  Outcome o;
  o.output = normalize_dates(driver.sent());
  for (Verdict v : driver.data_verdicts()) {
    if (v == Verdict::kCloseNow) o.error = "kCloseNow from on_data";
    if (v == Verdict::kCloseAfterFlush) o.closes = true;
  }
  if (driver.overconsumed()) o.error = "consumed more than given";
  if (!o.closes && (!driver.eof_called() || driver.eof_verdict() != Verdict::kCloseAfterFlush))
    o.error = "EOF did not end the connection with kCloseAfterFlush";
  return o;
}

::testing::AssertionResult matches(const HttpCase& c, const Outcome& o) {
  if (!o.error.empty()) return ::testing::AssertionFailure() << o.error;
  if (o.output != c.output) {
    return ::testing::AssertionFailure() << "output:\n"
                                         << ::testing::PrintToString(o.output) << "\nwant:\n"
                                         << ::testing::PrintToString(c.output);
  }
  if (o.closes != c.closes) return ::testing::AssertionFailure() << "closes " << o.closes;
  return ::testing::AssertionSuccess();
}

class HttpTable : public ::testing::TestWithParam<HttpCase> {};

TEST_P(HttpTable, WholeInput) {
  const HttpCase& c = GetParam();
  EXPECT_TRUE(matches(c, run(c, {c.input})));
}

TEST_P(HttpTable, SplitInTwoAtEveryPoint) {
  const HttpCase& c = GetParam();
  for (std::size_t at = 0; at <= c.input.size(); ++at) {
    ASSERT_TRUE(matches(c, run(c, split_in_two(c.input, at)))) << "split at " << at;
  }
}

TEST_P(HttpTable, ByteByByte) {
  const HttpCase& c = GetParam();
  EXPECT_TRUE(matches(c, run(c, split_bytes(c.input))));
}

INSTANTIATE_TEST_SUITE_P(Http, HttpTable, ::testing::ValuesIn(http_cases()),
                         [](const ::testing::TestParamInfo<HttpCase>& p) { return p.param.name; });

// ---- Beyond the table ------------------------------------------------------------------------

// Splits a stream of responses by their Content-Length (not valid for answers to HEAD, which
// have none). Returns false if a final response lacks Content-Length.
struct Response {
  std::string head;
  std::string body;
};
bool split_responses(std::string_view stream, std::vector<Response>& out) {
  while (!stream.empty()) {
    std::size_t end = stream.find("\r\n\r\n");
    if (end == std::string_view::npos) return false;
    Response r{std::string(stream.substr(0, end + 4)), ""};
    if (r.head.starts_with("HTTP/1.1 1")) {  // interim (100 Continue): never a body
      stream.remove_prefix(end + 4);
      continue;
    }
    std::size_t at = r.head.find("\r\nContent-Length: ");
    if (at == std::string::npos) return false;
    std::size_t length = std::stoul(r.head.substr(at + 18));
    if (stream.size() < end + 4 + length) return false;
    r.body = std::string(stream.substr(end + 4, length));
    stream.remove_prefix(end + 4 + length);
    out.push_back(r);
  }
  return true;
}

TEST(HttpHandler, EveryErrorHasLengthAndConnectionCloseAndCloses) {
  int errors = 0;
  for (const HttpCase& c : http_cases()) {
    Outcome o = run(c, {c.input});
    std::vector<Response> responses;
    if (c.input.find("HEAD ") != std::string::npos) continue;  // bodies left out: unsplittable
    ASSERT_TRUE(split_responses(o.output, responses)) << c.name;
    for (std::size_t i = 0; i < responses.size(); ++i) {
      const std::string& head = responses[i].head;
      if (head.starts_with("HTTP/1.1 2")) continue;
      ++errors;
      EXPECT_EQ(i + 1, responses.size()) << c.name << ": nothing may follow an error";
      EXPECT_NE(head.find("\r\nConnection: close\r\n"), std::string::npos) << c.name;
      EXPECT_TRUE(o.closes) << c.name;
    }
  }
  EXPECT_GT(errors, 40);
}

TEST(HttpHandler, HundredPipelinedRequestsInOneBuffer) {
  std::string input;
  std::string want;
  for (int i = 0; i < 100; ++i) {
    std::string body = "request " + std::to_string(i);
    input += i % 2 ? post_echo(body) : std::string(kGet);
    want += i % 2 ? echoed(body) : hello();
  }
  HttpCase c{"Hundred", input, want, false};
  EXPECT_TRUE(matches(c, run(c, {input})));
  EXPECT_TRUE(matches(c, run(c, test::split_every(input, 7))));
}

TEST(HttpHandler, LargeBodiesEchoedInAnyChunking) {
  std::string body;
  for (int i = 0; body.size() < 300 * 1024; ++i)
    body += static_cast<char>((static_cast<unsigned>(i) * 7919u) % 256);
  std::string chunked;
  for (std::size_t at = 0; at < body.size(); at += 10000) {
    std::string piece = body.substr(at, 10000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    chunked += std::string(size) + "\r\n" + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  HttpLimits big;
  big.max_body_bytes = body.size();
  HttpCase by_length{"Length", post_echo(body), echoed(body), false, big};
  HttpCase by_chunks{"Chunked", post_chunked(chunked), echoed(body), false, big};
  for (std::size_t size : {1000, 4096, 65536}) {
    EXPECT_TRUE(matches(by_length, run(by_length, test::split_every(by_length.input, size))));
    EXPECT_TRUE(matches(by_chunks, run(by_chunks, test::split_every(by_chunks.input, size))));
  }
}

TEST(HttpHandler, ConsumesHeadAndBodyButNotThePartialNextRequest) {
  auto handler = make_http_protocol(HttpLimits{}, fake_now)->create(test::test_context());
  HandlerDriver driver(*handler);
  driver.feed(post_echo("abc") + "GET /heal");
  EXPECT_EQ(driver.pending_input(), "GET /heal");
  driver.finish();
  EXPECT_EQ(driver.eof_rest(), "GET /heal");
  EXPECT_EQ(driver.eof_verdict(), Verdict::kCloseAfterFlush);
  EXPECT_EQ(normalize_dates(driver.sent()), echoed("abc"));
}

TEST(HttpHandler, HeaderTimeoutStartsAtFirstByteAndAnswers408) {
  HttpLimits limits;
  limits.header_timeout = 10s;
  auto handler = make_http_protocol(limits, fake_now)->create(test::test_context());
  HandlerDriver driver(*handler);
  EXPECT_EQ(handler->deadline(), Clock::time_point::max()) << "idle: the server's idle_timeout";

  const Clock::time_point start = g_fake_now;
  driver.feed("GET / HT");
  EXPECT_EQ(handler->deadline(), start + 10s);
  g_fake_now += 4s;
  driver.feed("TP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(handler->deadline(), start + 10s) << "later bytes of the same head do not extend it";
  driver.feed("\r\n");
  EXPECT_EQ(handler->deadline(), Clock::time_point::max()) << "a complete head clears it";
  EXPECT_EQ(normalize_dates(driver.sent()), hello());

  g_fake_now += 100s;  // idle between requests: no deadline of the handler's own
  driver.feed("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
  EXPECT_EQ(handler->deadline(), Clock::time_point::max()) << "a body is not a head";
  driver.feed("cde");
  driver.feed("GET");
  const Clock::time_point second = g_fake_now;
  EXPECT_EQ(handler->deadline(), second + 10s);

  g_fake_now += 10s;
  Buffer out;
  EXPECT_EQ(handler->on_deadline(out), Verdict::kCloseAfterFlush);
  EXPECT_EQ(normalize_dates(std::string(out.readable())), k408);
  EXPECT_GT(handler->deadline(), g_fake_now);
}

TEST(HttpHandler, EofWithNothingPendingWritesNothing) {
  auto handler = make_http_protocol(HttpLimits{}, fake_now)->create(test::test_context());
  Buffer out;
  EXPECT_EQ(handler->on_eof("", out), Verdict::kCloseAfterFlush);
  EXPECT_EQ(handler->on_eof("GET / HTTP/1.1\r\n", out), Verdict::kCloseAfterFlush);
  EXPECT_TRUE(out.empty());
}

TEST(HttpDateCache, FormatsImfFixdateOncePerSecond) {
  HttpDateCache cache;
  EXPECT_EQ(cache.at(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
  EXPECT_EQ(cache.at(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(cache.formats(), 1u);
  EXPECT_EQ(cache.at(784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
  EXPECT_EQ(cache.formats(), 2u);
  EXPECT_EQ(cache.at(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(cache.at(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(cache.at(1767225599), "Wed, 31 Dec 2025 23:59:59 GMT");
}

TEST(HttpProtocol, RefusalIsACompleteClosing503) {
  Section options("test.yaml", YAML::Node(YAML::NodeType::Map), "protocol.options");
  auto factory = make_http_protocol(options);
  std::string refusal(factory->refusal());
  EXPECT_EQ(refusal, http_refusal());
  EXPECT_TRUE(refusal.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
  std::vector<Response> responses;
  ASSERT_TRUE(split_responses(refusal, responses));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_NE(responses[0].head.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(responses[0].body, "Service Unavailable\n");
}

TEST(HttpProtocol, OptionsHaveDocumentedDefaults) {
  Section options("test.yaml", YAML::Node(YAML::NodeType::Map), "protocol.options");
  HttpLimits limits = read_http_limits(options);
  EXPECT_EQ(limits.max_header_bytes, 8u * 1024);
  EXPECT_EQ(limits.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(limits.header_timeout, 10s);
}

TEST(HttpProtocol, OptionsAreRead) {
  YAML::Node node =
      YAML::Load("{max_header_bytes: 16KiB, max_body_bytes: 2MiB, header_timeout: 1500ms}");
  Section options("test.yaml", node, "listeners[0].protocol.options");
  HttpLimits limits = read_http_limits(options);
  EXPECT_EQ(limits.max_header_bytes, 16u * 1024);
  EXPECT_EQ(limits.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(limits.header_timeout, 1500ms);
}

std::string config_error(const std::string& yaml) {
  Section options("test.yaml", YAML::Load(yaml), "listeners[0].protocol.options");
  try {
    make_http_protocol(options);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HttpProtocol, BadOptionsPointAtTheValue) {
  std::string typo = config_error("{max_header_byte: 1KiB}");
  EXPECT_NE(typo.find("test.yaml:1:2: listeners[0].protocol.options.max_header_byte: unknown key"),
            std::string::npos)
      << typo;
  for (const char* known : {"max_header_bytes", "max_body_bytes", "header_timeout"})
    EXPECT_NE(typo.find(known), std::string::npos) << typo;
  EXPECT_NE(config_error("{max_header_bytes: 10}")
                .find("test.yaml:1:20: listeners[0].protocol."
                      "options.max_header_bytes: must be between"),
            std::string::npos);
  EXPECT_NE(config_error("{max_body_bytes: lots}").find("max_body_bytes: expected a size"),
            std::string::npos);
  EXPECT_NE(config_error("{header_timeout: 0}").find("header_timeout: must be between"),
            std::string::npos);
}

}  // namespace
}  // namespace srv
