// The client-side reply checks as tables: (workload, replies to the requests sent) -> ok or the
// error. Good replies are also fed split at every byte: until a reply is whole the check must
// say "incomplete" and consume nothing.
#include "loadtest/workload.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace srv::loadtest {
namespace {

WorkloadOptions options(std::string protocol, long size = -1, std::string mix = {}) {
  WorkloadOptions o;
  o.protocol = std::move(protocol);
  o.size = size;
  if (!mix.empty()) o.mix = parse_mix(mix);
  return o;
}

// Checks `replies` against `n` outstanding requests of `c`; returns "ok" or the first error.
std::string check_all(Conversation& c, std::string_view replies, int n) {
  std::size_t at = 0;
  for (int i = 0; i < n; ++i) {
    const ReplyCheck r = c.check_reply(replies.substr(at));
    if (r.status == ReplyStatus::kBad) return "bad: " + r.why;
    if (r.status == ReplyStatus::kIncomplete) return "incomplete";
    at += r.consumed;
  }
  return at == replies.size() ? "ok" : "left over";
}

// The echo reply is the request itself; so is the template's when request == reply.
TEST(Workload, EchoRepliesMustBeTheRequestBytes) {
  auto w = make_workload(options("echo", 16));
  auto c = w->start(7);
  std::string requests;
  for (int i = 0; i < 3; ++i) c->write_request(requests);
  ASSERT_EQ(requests.size(), 48u);
  EXPECT_NE(requests.substr(0, 16), requests.substr(16, 16)) << "each request is stamped";
  // Every split point of the first reply: incomplete until all 16 bytes are there.
  for (std::size_t cut = 0; cut < 16; ++cut) {
    EXPECT_EQ(c->check_reply(std::string_view(requests).substr(0, cut)).status,
              ReplyStatus::kIncomplete);
  }
  EXPECT_EQ(check_all(*c, requests, 3), "ok");

  auto swapped = w->start(7);
  std::string again;
  for (int i = 0; i < 2; ++i) swapped->write_request(again);
  const std::string reordered = again.substr(16) + again.substr(0, 16);
  EXPECT_EQ(check_all(*swapped, reordered, 2), "bad: echo: reply differs from the request");
}

struct ReplyCase {
  const char* name;
  WorkloadOptions options;
  int requests;
  std::string replies;
  std::string verdict;  // "ok" or the start of the error
};

std::string http_ok(std::string_view body, std::string_view extra = "") {
  return "HTTP/1.1 200 OK\r\nServer: x\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string bulk(std::string_view v) {
  return "$" + std::to_string(v.size()) + "\r\n" + std::string(v) + "\r\n";
}

class ReplyTable : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(ReplyTable, Verdict) {
  const ReplyCase& t = GetParam();
  auto w = make_workload(t.options);
  auto c = w->start(0);
  std::string sent;
  for (int i = 0; i < t.requests; ++i) c->write_request(sent);
  const std::string verdict = check_all(*c, t.replies, t.requests);
  EXPECT_EQ(verdict.substr(0, t.verdict.size()), t.verdict) << verdict;
  if (t.verdict != "ok") return;
  // Split at every point: the first part alone is never a bad reply.
  for (std::size_t cut = 0; cut < t.replies.size(); ++cut) {
    auto fresh = w->start(0);
    std::string ignored;
    for (int i = 0; i < t.requests; ++i) fresh->write_request(ignored);
    std::string_view head = std::string_view(t.replies).substr(0, cut);
    std::size_t at = 0;
    for (ReplyCheck r; (r = fresh->check_reply(head.substr(at))).status == ReplyStatus::kOk;) {
      at += r.consumed;
    }
    EXPECT_EQ(fresh->check_reply(head.substr(at)).status, ReplyStatus::kIncomplete)
        << "cut at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReplyTable,
    ::testing::Values(
        ReplyCase{"http_get", options("http"), 2, http_ok("Hello") + http_ok("Hello"), "ok"},
        ReplyCase{"http_headers_any_case", options("http"), 1,
                  "HTTP/1.0 200 OK\r\ncontent-length:  2 \r\nX: y\r\n\r\nhi", "ok"},
        ReplyCase{"http_404", options("http"), 1,
                  "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                  "bad: http: \"HTTP/1.1 404"},
        ReplyCase{"http_no_length", options("http"), 1, "HTTP/1.1 200 OK\r\n\r\n",
                  "bad: http: reply without Content-Length"},
        ReplyCase{"http_chunked", options("http"), 1,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  "bad: http: chunked"},
        ReplyCase{"http_garbage", options("http"), 1, "SSH-2.0-OpenSSH\r\n\r\n",
                  "bad: http: not a status line"},
        ReplyCase{"http_bad_length", options("http"), 1,
                  "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad: http: bad Content-Length"},
        ReplyCase{"resp_mix", options("resp", 3, "ping:1,set:1,get:1"), 3,
                  "+PONG\r\n+OK\r\n" + bulk("xxx"), "ok"},
        ReplyCase{"resp_get_nil", options("resp", 3, "get:1"), 2, "$-1\r\n" + bulk("xxx"), "ok"},
        ReplyCase{"resp_get_wrong_value", options("resp", 3, "get:1"), 1, bulk("xyz"),
                  "bad: resp: expected"},
        ReplyCase{"resp_error", options("resp", 3, "set:1"), 1, "-ERR unknown command\r\n",
                  "bad: resp: expected \"+OK\\r\\n\", got \"-ERR unknown command\""},
        ReplyCase{"resp_ping_wrong", options("resp", 3, "ping:1"), 1, "+PANG\r\n", "bad: resp"},
        ReplyCase{"template",
                  [] {
                    WorkloadOptions o = options("template");
                    o.request_template = "hi\\n";
                    o.expected_reply = "HI\\n";
                    return o;
                  }(),
                  2, "HI\nHI\n", "ok"},
        ReplyCase{"template_wrong",
                  [] {
                    WorkloadOptions o = options("template");
                    o.request_template = "hi\\n";
                    o.expected_reply = "HI\\n";
                    return o;
                  }(),
                  1, "ho\n", "bad: template: expected"}),
    [](const ::testing::TestParamInfo<ReplyCase>& p) { return std::string(p.param.name); });

TEST(Workload, HttpPostEchoChecksTheBody) {
  auto w = make_workload(options("http", 10));
  auto c = w->start(3);
  std::string sent;
  c->write_request(sent);
  ASSERT_TRUE(sent.starts_with("POST /echo HTTP/1.1\r\n")) << sent;
  const std::string body = sent.substr(sent.find("\r\n\r\n") + 4);
  ASSERT_EQ(body.size(), 10u);
  EXPECT_EQ(check_all(*c, http_ok(body), 1), "ok");
  c->write_request(sent);
  EXPECT_EQ(check_all(*c, http_ok("0123456789"), 1).substr(0, 29), "bad: http: POST /echo body of");
}

TEST(Workload, RespRequestsAreRedisBenchmarkShaped) {
  auto w = make_workload(options("resp", 5, "set:1,get:1"));
  auto c = w->start(0);
  std::string sent;
  c->write_request(sent);
  c->write_request(sent);
  EXPECT_TRUE(sent.starts_with("*3\r\n$3\r\nSET\r\n$16\r\nkey:")) << sent;
  EXPECT_NE(sent.find("\r\n$5\r\nxxxxx\r\n*2\r\n$3\r\nGET\r\n$16\r\nkey:"), std::string::npos)
      << sent;
  EXPECT_EQ(w->mix(), "set:1,get:1");
}

TEST(Workload, OptionErrorsAreClear) {
  const auto error_of = [](WorkloadOptions o) {
    try {
      make_workload(o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(options("gopher")),
            "--protocol: unknown 'gopher' (known: echo, http, resp, template)");
  EXPECT_EQ(error_of(options("echo", 0)), "--size: echo needs at least 1 byte");
  EXPECT_EQ(error_of(options("template")), "template: needs --request and --expect");
  EXPECT_THROW(parse_mix("ping:0"), std::invalid_argument);
  EXPECT_THROW(parse_mix("del:1"), std::invalid_argument);
  EXPECT_EQ(parse_mix("ping,get:3").size(), 2u);
  EXPECT_EQ(decode_escapes("a\\r\\n\\x41\\\\"), "a\r\nA\\");
  EXPECT_THROW(decode_escapes("\\q"), std::invalid_argument);
}

}  // namespace
}  // namespace srv::loadtest
