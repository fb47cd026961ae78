// The admin protocol: address ranges, the allow list, the answers to /metrics, /status and
// /healthz, and the admin: section of the config.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "protocols/admin.h"
#include "tests/handler_driver.h"
#include "tests/test_context.h"

namespace srv {
namespace {

std::vector<AddressRange> ranges(std::initializer_list<std::string_view> texts) {
  std::vector<AddressRange> out;
  for (std::string_view text : texts) {
    AddressRange range;
    std::string error;
    EXPECT_TRUE(parse_address_range(text, range, error)) << text << ": " << error;
    out.push_back(range);
  }
  return out;
}

TEST(AddressRange, ParsesAddressesAndPrefixes) {
  struct Case {
    std::string_view text;
    bool ok;
    bool v6;
    int prefix;
  };
  const Case cases[] = {
      {"127.0.0.1", true, false, 32},  {"10.0.0.0/8", true, false, 8},
      {"0.0.0.0/0", true, false, 0},   {"::1", true, true, 128},
      {"fd00::/8", true, true, 8},     {"10.0.0.0/33", false, false, 0},
      {"::/129", false, false, 0},     {"10.0.0.0/", false, false, 0},
      {"10.0.0.0/x", false, false, 0}, {"localhost", false, false, 0},
      {"", false, false, 0},           {"10.0.0.0/8/8", false, false, 0},
  };
  for (const Case& c : cases) {
    AddressRange range;
    std::string error;
    bool ok = parse_address_range(c.text, range, error);
    EXPECT_EQ(ok, c.ok) << c.text;
    if (!ok || !c.ok) {
      EXPECT_EQ(error.empty(), ok) << c.text;
      continue;
    }
    EXPECT_EQ(range.v6, c.v6) << c.text;
    EXPECT_EQ(range.prefix, c.prefix) << c.text;
  }
}

TEST(AddressRange, PeersAreMatchedAgainstTheAllowList) {
  struct Case {
    std::string_view peer;
    bool allowed;
  };
  std::vector<AddressRange> allow = ranges({"127.0.0.1/32", "10.1.0.0/17", "::1", "fd00::/12"});
  const Case cases[] = {
      {"127.0.0.1:5000", true},         {"127.0.0.2:5000", false}, {"10.1.127.255:1", true},
      {"10.1.128.0:1", false},          {"[::1]:80", true},        {"[::2]:80", false},
      {"[fd0f::1]:80", true},           {"[fd10::1]:80", false},   {"[::ffff:127.0.0.1]:80", true},
      {"[::ffff:127.0.0.3]:80", false}, {"garbage", false},        {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(peer_allowed(c.peer, allow), c.allowed) << c.peer;
  EXPECT_TRUE(peer_allowed("127.9.9.9:1", loopback_ranges()));
  EXPECT_TRUE(peer_allowed("[::1]:1", loopback_ranges()));
  EXPECT_FALSE(peer_allowed("192.168.1.1:1", loopback_ranges()));
}

// ---- The handler ---------------------------------------------------------------------------

struct Answer {
  std::string status_line;
  std::string body;
  bool closed;
};

Answer ask(std::string_view request, std::string peer = "127.0.0.1:40000", bool draining = false) {
  StatusInfo status;
  status.version = "9.9";
  status.strategy = "poll";
  status.pgid = ::getpgrp();
  status.root = ::getpid();
  status.started = std::chrono::system_clock::now();
  status.draining = draining;
  auto factory = make_admin_protocol(loopback_ranges(), [status] { return status; });
  test::TestContext context;
  context.peer = std::move(peer);
  context.context.peer = context.peer;  // the view was made of the string before
  auto handler = factory->create(context.context);
  test::HandlerDriver driver = test::drive(*handler, std::vector<std::string_view>{request}, false);
  const std::string& sent = driver.sent();
  std::size_t body_at = sent.find("\r\n\r\n");
  return {sent.substr(0, sent.find("\r\n")),
          body_at == std::string::npos ? "" : sent.substr(body_at + 4),
          !driver.data_verdicts().empty() &&
              driver.data_verdicts().back() == Verdict::kCloseAfterFlush};
}

TEST(AdminHandler, AnswersItsThreePathsAndRefusesTheRest) {
  struct Case {
    std::string_view request;
    std::string_view status_line;
    std::string_view peer = "127.0.0.1:40000";
    bool draining = false;
  };
  const Case cases[] = {
      {"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK"},
      {"GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 503 Service Unavailable", "127.0.0.1:1", true},
      {"GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK"},
      {"GET /metrics?x=1 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK"},
      {"HEAD /status HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK"},
      {"GET /status HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK"},
      {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"DELETE /status HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"GET\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 403 Forbidden", "192.168.0.7:555"},
      {"GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 403 Forbidden", "[2001:db8::1]:555"},
      {"GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK", "[::ffff:127.0.0.1]:555"},
  };
  for (const Case& c : cases) {
    Answer answer = ask(c.request, std::string(c.peer), c.draining);
    EXPECT_EQ(answer.status_line, c.status_line) << c.request << " from " << c.peer;
    EXPECT_TRUE(answer.closed) << c.request;
  }
}

TEST(AdminHandler, WaitsForAWholeHeadHoweverItIsSplit) {
  std::string_view request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::size_t at = 0; at <= request.size(); ++at) {
    auto factory = make_admin_protocol(loopback_ranges(), [] { return StatusInfo{}; });
    test::TestContext context;
    auto handler = factory->create(context.context);
    test::HandlerDriver driver = test::drive(*handler, test::split_in_two(request, at), false);
    EXPECT_TRUE(driver.sent().starts_with("HTTP/1.1 200 OK\r\n")) << "split at " << at;
    EXPECT_TRUE(driver.sent().ends_with("\r\n\r\nok\n")) << "split at " << at;
  }
}

TEST(AdminHandler, BodiesAreMetricsAndJson) {
  Answer metrics = ask("GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_NE(metrics.body.find("srv_build_info{version=\"9.9\",strategy=\"poll\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("\nsrv_processes "), std::string::npos);
  Answer status = ask("GET /status HTTP/1.1\r\n\r\n");
  nlohmann::json json = nlohmann::json::parse(status.body);
  EXPECT_EQ(json["strategy"], "poll");
  EXPECT_GE(json["processes"].size(), 1u) << "this test process, at least";
  EXPECT_EQ(ask("HEAD /status HTTP/1.1\r\n\r\n").body, "") << "HEAD has no body";
}

// ---- Config --------------------------------------------------------------------------------

TEST(AdminConfig, IsOffByDefaultAndValidatedWithLocations) {
  const std::string base = "listeners:\n  - listen: 127.0.0.1:0\n";
  Config off = load_config_text(base, "t.yaml", {});
  EXPECT_FALSE(off.admin.enabled);
  Config on = load_config_text(base + "admin: {listen: 127.0.0.1:9100}\n", "t.yaml", {});
  EXPECT_TRUE(on.admin.enabled);
  EXPECT_EQ(on.admin.listen.port, 9100);
  EXPECT_TRUE(peer_allowed("127.0.0.1:1", on.admin.allow)) << "loopback by default";
  EXPECT_FALSE(peer_allowed("10.0.0.1:1", on.admin.allow));
  Config listed = load_config_text(
      base + "admin:\n  listen: 127.0.0.1:9100\n  allow: [10.0.0.0/8, ::1]\n", "t.yaml", {});
  EXPECT_TRUE(peer_allowed("10.2.3.4:1", listed.admin.allow));
  EXPECT_FALSE(peer_allowed("127.0.0.1:1", listed.admin.allow));

  struct Case {
    std::string yaml;
    std::string_view message;  // the whole message starts with this
  };
  const Case cases[] = {
      {"admin: {allow: [::1]}\n", "t.yaml:3:8: admin.listen: the admin listener needs listen"},
      {"admin: {listen: nowhere}\n", "t.yaml:3:17: admin.listen: "},
      {"admin:\n  listen: 127.0.0.1:1\n  allow: [10.0.0.0/8, 300.1.1.1]\n",
       "t.yaml:5:23: admin.allow[1]: '300.1.1.1' is not an IPv4 or IPv6 address"},
      {"admin:\n  listen: 127.0.0.1:1\n  allow: 10.0.0.0/8\n",
       "t.yaml:5:10: admin.allow: must be a list"},
      {"admin:\n  listen: 127.0.0.1:1\n  allow: [::1/200]\n",
       "t.yaml:5:11: admin.allow[0]: '::1/200': the prefix length must be 0 to 128"},
      {"admin:\n  listen: 127.0.0.1:1\n  alow: []\n", "t.yaml:5:3: admin.alow: unknown key"},
      {"admin: 9100\n", "t.yaml:3:8: admin: must be a map"},
  };
  for (const Case& c : cases) {
    try {
      load_config_text(base + c.yaml, "t.yaml", {});
      ADD_FAILURE() << "loaded: " << c.yaml;
    } catch (const ConfigError& e) {
      EXPECT_TRUE(std::string_view(e.what()).starts_with(c.message))
          << "got  " << e.what() << "\nwant " << c.message;
    }
  }
}

}  // namespace
}  // namespace srv
