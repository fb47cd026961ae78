// The metrics page, its Prometheus and JSON renderings, and what handlers count through their
// RequestMeter.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "protocols/http.h"
#include "protocols/resp.h"
#include "server/metrics.h"
#include "server/metrics_render.h"
#include "tests/handler_driver.h"
#include "tests/test_context.h"

namespace srv {
namespace {

StatusInfo test_status() {
  StatusInfo status;
  status.version = "1.2.3";
  status.pid = 4242;
  status.started = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  status.config_file = "/etc/srv/\"odd\"\nname.yaml";
  status.generation = 3;
  status.strategy = "epoll";
  status.listeners = {{"127.0.0.1:8080", "http", "tcp"}, {"[::1]:6379", "resp", "tls"}};
  return status;
}

MetricsSnapshot test_snapshot() {
  MetricsSnapshot m;
  ListenerFigures http;
  http.address = "127.0.0.1:8080";
  http.protocol = "http";
  http.transport = "tcp";
  http.accepted = 7;
  http.active = 2;
  http.refused[static_cast<std::size_t>(RefuseReason::kMaxConnections)] = 1;
  http.timed_out[static_cast<std::size_t>(TimeoutKind::kIdle)] = 4;
  http.output_limited = 3;
  http.bytes_received = 1000;
  http.bytes_sent = 2000;
  http.errors[static_cast<std::size_t>(RequestError::kClient)] = 2;
  http.durations[0] = 3;                        // <= 0.0001 s
  http.durations[3] = 2;                        // <= 0.001 s
  http.durations[kDurationBuckets.size()] = 1;  // above 10 s
  http.duration_sum_ns = 12'500'000'000;        // 12.5 s
  m.listeners.push_back(http);
  m.counters[static_cast<std::size_t>(Counter::kTlsHandshakes)] = 5;
  m.counters[static_cast<std::size_t>(Counter::kTlsFailedAlpn)] = 1;
  m.reloads_ok = 2;
  m.reloads_failed = 1;
  m.worker_restarts = 9;
  return m;
}

ProcessGroupFigures test_processes() {
  ProcessGroupFigures p;
  p.processes = {{4242, 1, 3, 4096}, {4243, 4242, 1, 8192}};
  p.threads = 4;
  p.resident_bytes = 12288;
  return p;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Prometheus, RendersKnownCountsAsExpectedLines) {
  std::vector<std::string> lines =
      lines_of(render_prometheus(test_snapshot(), test_status(), test_processes()));
  const std::string l = "listener=\"127.0.0.1:8080\"";
  const std::string lp = l + ",protocol=\"http\"";
  const std::vector<std::string> expected = {
      "# HELP srv_connections_accepted_total Connections accepted and served.",
      "# TYPE srv_connections_accepted_total counter",
      "srv_build_info{version=\"1.2.3\",strategy=\"epoll\"} 1",
      "srv_start_time_seconds 1700000000",
      "srv_reloads_total{result=\"applied\"} 2",
      "srv_reloads_total{result=\"refused\"} 1",
      "srv_worker_restarts_total 9",
      "srv_processes 2",
      "srv_threads 4",
      "srv_resident_memory_bytes 12288",
      "srv_connections_accepted_total{" + l + "} 7",
      "srv_connections_refused_total{" + l + ",reason=\"max_connections\"} 1",
      "srv_connections_refused_total{" + l + ",reason=\"queue_full\"} 0",
      "srv_connections_active{" + l + "} 2",
      "srv_connections_timed_out_total{" + l + ",kind=\"idle\"} 4",
      "srv_connections_timed_out_total{" + l + ",kind=\"handshake\"} 0",
      "srv_connections_output_limited_total{" + l + "} 3",
      "srv_bytes_received_total{" + l + "} 1000",
      "srv_bytes_sent_total{" + l + "} 2000",
      "srv_requests_total{" + lp + "} 6",
      "srv_request_errors_total{" + lp + ",kind=\"4xx\"} 2",
      "# TYPE srv_request_duration_seconds histogram",
      "srv_request_duration_seconds_bucket{" + lp + ",le=\"0.0001\"} 3",
      "srv_request_duration_seconds_bucket{" + lp + ",le=\"0.00025\"} 3",
      "srv_request_duration_seconds_bucket{" + lp + ",le=\"0.001\"} 5",
      "srv_request_duration_seconds_bucket{" + lp + ",le=\"10\"} 5",
      "srv_request_duration_seconds_bucket{" + lp + ",le=\"+Inf\"} 6",
      "srv_request_duration_seconds_sum{" + lp + "} 12.5",
      "srv_request_duration_seconds_count{" + lp + "} 6",
      "srv_tls_handshakes_total 5",
      "srv_tls_handshake_failures_total{reason=\"alpn\"} 1",
      "srv_tls_handshake_failures_total{reason=\"version\"} 0",
  };
  for (const std::string& want : expected) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), want), lines.end()) << "missing: " << want;
  }
  // Error kinds that never happened are left out, not shown as zero for every protocol.
  for (const std::string& line : lines)
    EXPECT_EQ(line.find("kind=\"wrongtype\""), std::string::npos);
}

TEST(Prometheus, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  std::string text = render_prometheus(test_snapshot(), test_status(), test_processes());
  std::string family;
  for (const std::string& line : lines_of(text)) {
    if (line.starts_with("# HELP ")) {
      family = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      EXPECT_TRUE(line.starts_with("# TYPE " + family + " ")) << line;
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_TRUE(name == family || name == family + "_bucket" || name == family + "_sum" ||
                name == family + "_count")
        << name << " outside its family " << family;
  }
}

TEST(Prometheus, LabelValuesAreEscaped) {
  struct Case {
    std::string_view in;
    std::string_view out;
  };
  const Case cases[] = {
      {"plain", "plain"}, {"a\"b", "a\\\"b"},        {"a\\b", "a\\\\b"},       {"a\nb", "a\\nb"},
      {"", ""},           {"\\\"\n", "\\\\\\\"\\n"}, {"[::1]:80", "[::1]:80"},
  };
  for (const Case& c : cases) EXPECT_EQ(escape_label_value(c.in), c.out) << c.in;
  StatusInfo status = test_status();
  status.version = "1\"2";
  std::string text = render_prometheus(MetricsSnapshot{}, status, test_processes());
  EXPECT_NE(text.find("srv_build_info{version=\"1\\\"2\",strategy=\"epoll\"} 1\n"),
            std::string::npos);
}

TEST(Prometheus, HistogramBucketsAreCumulative) {
  MetricsSnapshot m = test_snapshot();
  for (std::size_t i = 0; i < m.listeners[0].durations.size(); ++i) m.listeners[0].durations[i] = i;
  std::uint64_t previous = 0;
  int buckets = 0;
  for (const std::string& line : lines_of(render_prometheus(m, test_status(), {}))) {
    if (!line.starts_with("srv_request_duration_seconds_bucket")) continue;
    std::uint64_t value = std::stoull(line.substr(line.rfind(' ') + 1));
    EXPECT_GE(value, previous) << line;
    previous = value;
    ++buckets;
  }
  EXPECT_EQ(buckets, static_cast<int>(kDurationBuckets.size() + 1));
  std::uint64_t n = kDurationBuckets.size() + 1;
  EXPECT_EQ(previous, n * (n - 1) / 2);  // +Inf holds every request
}

TEST(StatusJson, IsWellFormedAndNamesWhatTheMasterKnows) {
  auto now = test_status().started + std::chrono::seconds(90);
  nlohmann::json status =
      nlohmann::json::parse(render_status_json(test_status(), test_processes(), now));
  EXPECT_EQ(status["version"], "1.2.3");
  EXPECT_EQ(status["pid"], 4242);
  EXPECT_DOUBLE_EQ(status["uptime_seconds"].get<double>(), 90.0);
  EXPECT_EQ(status["config_file"], "/etc/srv/\"odd\"\nname.yaml");
  EXPECT_EQ(status["generation"], 3);
  EXPECT_EQ(status["strategy"], "epoll");
  EXPECT_EQ(status["draining"], false);
  ASSERT_EQ(status["listeners"].size(), 2u);
  EXPECT_EQ(status["listeners"][1]["address"], "[::1]:6379");
  EXPECT_EQ(status["listeners"][1]["transport"], "tls");
  ASSERT_EQ(status["processes"].size(), 2u);
  EXPECT_EQ(status["processes"][1]["pid"], 4243);
  EXPECT_EQ(status["processes"][1]["resident_bytes"], 8192);
  EXPECT_EQ(status["threads"], 4);
}

TEST(StatusJson, InvalidUtf8InAFileNameDoesNotThrow) {
  StatusInfo status = test_status();
  status.config_file = "bad\xff.yaml";
  EXPECT_NO_THROW(nlohmann::json::parse(render_status_json(status, {}, status.started)));
}

// ---- The page, counted through ConnectionMeter ------------------------------------------------

const ListenerFigures& figures(const MetricsSnapshot& m, std::string_view address) {
  for (const auto& l : m.listeners) {
    if (l.address == address) return l;
  }
  throw std::runtime_error("no such listener");
}

TEST(MetricsPage, ConnectionMeterCountsIntoItsListenersSlot) {
  init_metrics();
  ListenerSlot* slot = listener_slot("test:1", "http", "tcp");
  ASSERT_EQ(listener_slot("test:1", "http", "tcp"), slot) << "the same listener keeps its slot";
  ListenerFigures before = figures(snapshot_metrics(), "test:1");
  {
    ConnectionMeter meter(slot);
    EXPECT_EQ(figures(snapshot_metrics(), "test:1").active, before.active + 1);
    meter.received(10);
    meter.sent(25);
    meter.request_done();
    meter.request_error(RequestError::kServer);
    meter.timed_out(TimeoutKind::kWrite);
  }
  count_refused(slot, RefuseReason::kFdLimit);
  ListenerFigures after = figures(snapshot_metrics(), "test:1");
  EXPECT_EQ(after.accepted, before.accepted + 1);
  EXPECT_EQ(after.active, before.active);
  EXPECT_EQ(after.bytes_received, before.bytes_received + 10);
  EXPECT_EQ(after.bytes_sent, before.bytes_sent + 25);
  std::uint64_t requests_before = 0, requests_after = 0;
  for (auto n : before.durations) requests_before += n;
  for (auto n : after.durations) requests_after += n;
  EXPECT_EQ(requests_after, requests_before + 2);
  auto at = [](auto e) { return static_cast<std::size_t>(e); };
  EXPECT_EQ(after.errors[at(RequestError::kServer)], before.errors[at(RequestError::kServer)] + 1);
  EXPECT_EQ(after.timed_out[at(TimeoutKind::kWrite)],
            before.timed_out[at(TimeoutKind::kWrite)] + 1);
  EXPECT_EQ(after.refused[at(RefuseReason::kFdLimit)],
            before.refused[at(RefuseReason::kFdLimit)] + 1);
}

TEST(MetricsPage, CountsMadeInAChildProcessSurviveIt) {
  init_metrics();
  ListenerSlot* slot = listener_slot("test:fork", "resp", "tcp");
  std::uint64_t before = figures(snapshot_metrics(), "test:fork").bytes_received;
  pid_t child = ::fork();
  if (child == 0) {
    ConnectionMeter(slot).received(7);
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(figures(snapshot_metrics(), "test:fork").bytes_received, before + 7);
}

// ---- What protocols report -----------------------------------------------------------------

struct MeterCase {
  std::string_view input;
  int done;
  std::vector<RequestError> errors;
};

TEST(RequestMeter, HttpCountsEachAnsweredRequestAndItsErrorClass) {
  const MeterCase cases[] = {
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1, {}},
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2, {}},
      {"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 0, {RequestError::kClient}},
      {"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 0, {RequestError::kServer}},
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\nbad\r\n\r\n", 1, {RequestError::kClient}},
      {"GET / HTTP/1.1\r\nHost: x\r\n", 0, {}},  // unfinished: nothing answered yet
  };
  for (const MeterCase& c : cases) {
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      test::TestContext context;
      auto handler = make_http_protocol(HttpLimits{})->create(context.context);
      test::drive(*handler, test::split_in_two(c.input, split));
      EXPECT_EQ(context.meter.done, c.done) << c.input << " split at " << split;
      EXPECT_EQ(context.meter.errors, c.errors) << c.input << " split at " << split;
    }
  }
}

TEST(RequestMeter, RespCountsEachCommandAndErrorRepliesByKind) {
  RespSettings settings;
  settings.max_memory = 1024 * 1024;
  const MeterCase cases[] = {
      {"PING\r\n", 1, {}},
      {"SET k v\r\nGET k\r\n", 2, {}},
      {"NOSUCH\r\n", 0, {RequestError::kErr}},
      {"RPUSH l a\r\nGET l\r\n", 1, {RequestError::kWrongType}},
      {"*1\r\n$x\r\n", 0, {RequestError::kErr}},  // a protocol error
  };
  for (const MeterCase& c : cases) {
    RespFactory factory(settings);
    test::TestContext context;
    auto handler = factory.create(context.context);
    test::drive(*handler, std::vector<std::string_view>{c.input});
    EXPECT_EQ(context.meter.done, c.done) << c.input;
    EXPECT_EQ(context.meter.errors, c.errors) << c.input;
  }
  RespSettings locked = settings;
  locked.requirepass = "secret";
  RespFactory factory(locked);
  test::TestContext context;
  auto handler = factory.create(context.context);
  test::drive(*handler, std::vector<std::string_view>{"GET k\r\n"});
  EXPECT_EQ(context.meter.errors, std::vector<RequestError>{RequestError::kNoAuth});
}

}  // namespace
}  // namespace srv
