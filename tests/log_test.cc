// The server log and the access log: escaping, line formats, reopening after a rename
// (logrotate's SIGUSR1), and what the protocols tell the access log about each request.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "protocols/http.h"
#include "protocols/resp.h"
#include "server/access_log.h"
#include "server/log.h"
#include "server/log_file.h"
#include "server/log_format.h"
#include "server/metrics.h"
#include "tests/handler_driver.h"
#include "tests/test_context.h"

namespace srv {
namespace test {

std::ostream& operator<<(std::ostream& out, const RecordingMeter::Summary& s) {
  return out << "{" << s.request << ", " << s.status << ", " << s.bytes_in << ", " << s.bytes_out
             << "}";
}

}  // namespace test
namespace {

using namespace std::chrono_literals;

// A folder of the test's own, removed at the end.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/srv-log-test.XXXXXX";
    path_ = ::mkdtemp(name) ? name : "";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(std::string_view file) const { return path_ + "/" + std::string(file); }

 private:
  std::string path_;
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string text(const LogLine& line) {
  return {line.data(), line.size()};
}

// ---- Escaping ------------------------------------------------------------------------------

TEST(LogFormat, JsonStringsStayValidJsonWhateverTheBytes) {
  struct Case {
    std::string input, expected;
  };
  const Case cases[] = {
      {"", R"("")"},
      {"plain text", R"("plain text")"},
      {"a \"quote\" and a \\", R"("a \"quote\" and a \\")"},
      {"line\nbreak\ttab\r", R"("line\u000abreak\u0009tab\u000d")"},
      {std::string("nul\0byte", 8), R"("nul\u0000byte")"},
      {"del\x7f", R"("del\u007f")"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
      {"bad \xff byte", R"("bad \ufffd byte")"},
      {"cut \xe2\x82", R"("cut \ufffd\ufffd")"},            // a sequence missing its end
      {"overlong \xc0\xaf", R"("overlong \ufffd\ufffd")"},  // '/' spelt in two bytes
      {"surrogate \xed\xa0\x80", R"("surrogate \ufffd\ufffd\ufffd")"},
      {"too high \xf4\x90\x80\x80", R"("too high \ufffd\ufffd\ufffd\ufffd")"},
      {"lone \x80", R"("lone \ufffd")"},
  };
  for (const Case& c : cases) {
    LogLine line;
    append_json_string(line, c.input);
    EXPECT_EQ(text(line), c.expected) << c.input;
    EXPECT_TRUE(nlohmann::json::accept(text(line))) << text(line);
  }
}

TEST(LogFormat, TextEscapingKeepsARequestOnOneLine) {
  struct Case {
    std::string input, expected;
  };
  const Case cases[] = {
      {"GET /index.html", "GET /index.html"}, {"GET /a\"b", R"(GET /a\x22b)"},
      {"GET /a\\b", R"(GET /a\x5cb)"},        {"FOO\r\nforged line", R"(FOO\x0d\x0aforged line)"},
      {"caf\xc3\xa9", R"(caf\xc3\xa9)"},      {std::string("\0", 1), R"(\x00)"},
  };
  for (const Case& c : cases) {
    LogLine line;
    append_escaped(line, c.input);
    EXPECT_EQ(text(line), c.expected) << c.input;
  }
}

TEST(LogFormat, Times) {
  // 2024-05-01T10:00:00.123Z
  auto at = std::chrono::system_clock::time_point(std::chrono::seconds(1714557600) + 123ms);
  LogLine utc;
  append_utc_time(utc, at);
  EXPECT_EQ(text(utc), "2024-05-01T10:00:00.123Z");
  LogLine local;
  append_local_time(local, at);
  EXPECT_TRUE(std::regex_match(text(local), std::regex(R"(2024-05-0[12]T\d\d:\d\d:00\.123)")))
      << text(local);
}

// ---- LogFile: reopening after a rename -----------------------------------------------------

TEST(LogFile, ReopensByNameOnlyWhenAsked) {
  TempDir dir;
  auto file = LogFile::open(dir / "srv.log");
  file->write_line("one\n");
  std::filesystem::rename(dir / "srv.log", dir / "srv.log.1");
  file->write_line("two\n");  // not asked: still the file it has open
  request_log_reopen();
  file->write_line("three\n");
  file->write_line("four\n");
  EXPECT_EQ(lines_of(dir / "srv.log.1"), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(lines_of(dir / "srv.log"), (std::vector<std::string>{"three", "four"}));
}

TEST(LogFile, AFileThatCannotBeReopenedKeepsTheOldOneAndSaysSo) {
  TempDir dir;
  auto file = LogFile::open(dir / "srv.log");
  std::filesystem::rename(dir / "srv.log", dir / "srv.log.1");
  std::filesystem::create_directory(dir / "srv.log");  // open(2) fails: EISDIR
  request_log_reopen();
  file->write_line("after\n");
  std::vector<std::string> old = lines_of(dir / "srv.log.1");
  ASSERT_EQ(old.size(), 2u);
  EXPECT_NE(old[0].find("cannot reopen " + (dir / "srv.log") + " after SIGUSR1: Is a directory"),
            std::string::npos)
      << old[0];
  EXPECT_EQ(old[1], "after");
}

TEST(LogFile, OpeningAMissingFolderThrowsWithThePath) {
  try {
    LogFile::open("/nonexistent-srv-dir/x.log");
    FAIL() << "opened";
  } catch (const std::system_error& e) {
    EXPECT_STREQ(e.what(), "cannot open /nonexistent-srv-dir/x.log: No such file or directory");
  }
}

// ---- The server log ------------------------------------------------------------------------

// Logs through setup_logging into a file, then puts the previous logger and generation back.
class ServerLog : public ::testing::Test {
 protected:
  void TearDown() override {
    spdlog::set_default_logger(saved_);
    set_log_generation(0);
  }
  std::vector<std::string> log(LogFormat format, int generation) {
    set_log_generation(generation);
    setup_logging({"info", format, LogFile::open(dir_ / "srv.log")});
    spdlog::info("listening on \"x\"");
    spdlog::debug("not at info");
    spdlog::warn("careful");
    return lines_of(dir_ / "srv.log");
  }

  TempDir dir_;
  std::shared_ptr<spdlog::logger> saved_ = spdlog::default_logger();
};

TEST_F(ServerLog, TextLinesNameTheGenerationOrTheMaster) {
  const std::string pid = std::to_string(::getpid());
  std::vector<std::string> lines = log(LogFormat::kText, 3);
  ASSERT_EQ(lines.size(), 2u);
  const std::string time = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})";
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(time + R"( \[info\] \[generation 3\] \[pid )" +
                                                    pid + R"(\] listening on "x")")))
      << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(time + R"( \[warning\] .* careful)")));
  std::filesystem::remove(dir_ / "srv.log");
  lines = log(LogFormat::kText, 0);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" [info] [master] [pid " + pid + "] listening on"), std::string::npos)
      << lines[0];
}

TEST_F(ServerLog, JsonLinesAreObjectsWithGenerationAndPid) {
  std::vector<std::string> lines = log(LogFormat::kJson, 2);
  ASSERT_EQ(lines.size(), 2u);
  nlohmann::json first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["generation"], 2);
  EXPECT_EQ(first["pid"], ::getpid());
  EXPECT_EQ(first["msg"], "listening on \"x\"");
  EXPECT_TRUE(std::regex_match(first["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(nlohmann::json::parse(lines[1])["level"], "warning");
}

// ---- The access log ------------------------------------------------------------------------

TEST(AccessLog, TextAndJsonLines) {
  TempDir dir;
  RequestSummary summary{"GET /a \"b\"", "404", 78, 152};
  auto at = std::chrono::system_clock::now();
  AccessEntry entry{"127.0.0.1:5000", "127.0.0.1:8080", summary, RequestError::kClient, 1500us, at};
  AccessLog(LogFile::open(dir / "text.log"), LogFormat::kText, "http").write(entry);
  AccessLog(LogFile::open(dir / "json.log"), LogFormat::kJson, "http").write(entry);

  std::vector<std::string> text_lines = lines_of(dir / "text.log");
  ASSERT_EQ(text_lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      text_lines[0],
      std::regex(R"(127\.0\.0\.1:5000 127\.0\.0\.1:8080 \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\] )"
                 R"(http "GET /a \\x22b\\x22" 404 78 152 0\.001500)")))
      << text_lines[0];

  std::vector<std::string> json_lines = lines_of(dir / "json.log");
  ASSERT_EQ(json_lines.size(), 1u);
  nlohmann::json line = nlohmann::json::parse(json_lines[0]);
  EXPECT_EQ(line["peer"], "127.0.0.1:5000");
  EXPECT_EQ(line["local"], "127.0.0.1:8080");
  EXPECT_EQ(line["protocol"], "http");
  EXPECT_EQ(line["request"], "GET /a \"b\"");
  EXPECT_EQ(line["status"], "404");
  EXPECT_EQ(line["error"], "4xx");
  EXPECT_EQ(line["bytes_in"], 78);
  EXPECT_EQ(line["bytes_out"], 152);
  EXPECT_DOUBLE_EQ(line["duration_s"].get<double>(), 0.0015);
  EXPECT_EQ(line["pid"], ::getpid());
  EXPECT_EQ(line["generation"], 0);
}

// A plugin that reports nothing but the request still gets its line: "-" for what it did not say
// (the error kind for the status of a failed request), and long requests are cut.
TEST(AccessLog, WhatTheHandlerDidNotSay) {
  TempDir dir;
  AccessLog log(LogFile::open(dir / "a.log"), LogFormat::kText, "plugin");
  RequestSummary nothing;
  const std::string long_request(5000, 'x');
  RequestSummary long_one{long_request, "ok", 0, 0};
  auto at = std::chrono::system_clock::now();
  log.write({"p:1", "l:2", nothing, std::nullopt, 0ns, at});
  log.write({"p:1", "l:2", nothing, RequestError::kWrongType, 0ns, at});
  log.write({"p:1", "l:2", long_one, std::nullopt, 0ns, at});
  std::vector<std::string> lines = lines_of(dir / "a.log");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("] plugin \"-\" - 0 0 0.000000"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("] plugin \"-\" wrongtype 0 0"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\"" + std::string(2048, 'x') + "...\" ok"), std::string::npos);
}

// The connection's meter writes the line: the peer and listener it was made with, the time from
// the request's first byte, and nothing at all without an access log.
TEST(AccessLog, TheConnectionMeterWritesOneLinePerRequest) {
  TempDir dir;
  AccessLog log(LogFile::open(dir / "a.log"), LogFormat::kJson, "resp");
  {
    ConnectionMeter meter(nullptr, {&log, "10.0.0.1:999", "127.0.0.1:6379"});
    EXPECT_TRUE(meter.logs_requests());
    meter.request_began(Clock::now() - 20ms);
    RequestMeter& as_handler_sees_it = meter;
    as_handler_sees_it.request_done({"SET", "ok", 31, 5});
    as_handler_sees_it.request_error(RequestError::kErr, {"NOSUCH", "error", 12, 30});
    ConnectionMeter silent(nullptr);
    EXPECT_FALSE(silent.logs_requests());
    static_cast<RequestMeter&>(silent).request_done({"GET", "ok", 1, 1});
  }
  std::vector<std::string> lines = lines_of(dir / "a.log");
  ASSERT_EQ(lines.size(), 2u);
  nlohmann::json first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["peer"], "10.0.0.1:999");
  EXPECT_EQ(first["local"], "127.0.0.1:6379");
  EXPECT_EQ(first["request"], "SET");
  EXPECT_EQ(first["error"], nullptr);
  EXPECT_GE(first["duration_s"].get<double>(), 0.020);
  nlohmann::json second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["status"], "error");
  EXPECT_EQ(second["error"], "err");
  EXPECT_LT(second["duration_s"].get<double>(), 0.020);  // from the end of the one before
}

// ---- What protocols say about each request -------------------------------------------------

// What a request was and how it was answered; its bytes are checked as sums (below).
struct Said {
  std::string request, status;
  bool operator==(const Said&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Said& said) {
  return out << "{" << said.request << ", " << said.status << "}";
}

struct SummaryCase {
  std::string_view input;
  std::vector<Said> expected;
  /// The last request was a protocol error, which counts the bytes it was given without
  /// consuming them (the connection closes): between what was consumed and the whole input.
  bool error_counts_unconsumed = false;
};

// Drives `input` split in two at every byte: the handler says `expected`, and the bytes it
// reports add up to what it consumed and what it wrote, however the input was split.
template <typename MakeHandler>
void expect_summaries(const SummaryCase& c, MakeHandler make) {
  for (std::size_t split = 0; split <= c.input.size(); ++split) {
    test::TestContext context;
    context.meter.logs = true;
    std::unique_ptr<ProtocolHandler> handler = make(context.context);
    test::HandlerDriver driver = test::drive(*handler, test::split_in_two(c.input, split));
    std::vector<Said> said;
    std::uint64_t in = 0, out = 0;
    for (const auto& summary : context.meter.summaries) {
      said.push_back({summary.request, summary.status});
      in += summary.bytes_in;
      out += summary.bytes_out;
    }
    std::uint64_t consumed = 0;
    for (std::size_t n : driver.consumed()) consumed += n;
    EXPECT_EQ(said, c.expected) << c.input << " split at " << split;
    if (c.error_counts_unconsumed) {
      EXPECT_GT(in, consumed) << c.input << " split at " << split;
      EXPECT_LE(in, c.input.size()) << c.input << " split at " << split;
    } else {
      EXPECT_EQ(in, consumed) << c.input << " split at " << split;
    }
    EXPECT_EQ(out, driver.sent().size()) << c.input << " split at " << split;
  }
}

TEST(AccessSummary, HttpRequestStatusAndBytes) {
  const SummaryCase cases[] = {
      {"GET /healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", {{"GET /healthz?x=1", "200"}}},
      {"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", {{"HEAD /", "200"}}},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", {{"POST /echo", "200"}}},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       {{"POST /echo", "200"}}},
      {"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", {{"GET /nope", "404"}}},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", {{"POST /", "405"}}},
      {"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", {{"BREW /", "501"}}},
      {"GET / HTTP/1.0\r\n\r\nGET /x HTTP/1.1\r\n\r\n", {{"GET /", "200"}}},  // 1.0 closes
      {"bad\r\n\r\n", {{"", "400"}}},
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
       {{"GET /", "200"}, {"GET /nope", "404"}}},
  };
  for (const SummaryCase& c : cases) {
    expect_summaries(c, [](const ConnectionContext& context) {
      return make_http_protocol(HttpLimits{})->create(context);
    });
  }
}

// Without an access log the handler copies nothing: the request text stays empty.
TEST(AccessSummary, NothingCopiedWithoutAnAccessLog) {
  test::TestContext context;
  auto handler = make_http_protocol(HttpLimits{})->create(context.context);
  test::drive(*handler, std::vector<std::string_view>{"GET / HTTP/1.1\r\nHost: x\r\n\r\n"});
  ASSERT_EQ(context.meter.summaries.size(), 1u);
  EXPECT_EQ(context.meter.summaries[0].request, "");
  EXPECT_EQ(context.meter.summaries[0].status, "200");
}

TEST(AccessSummary, RespCommandReplyTypeAndBytes) {
  RespSettings settings;
  settings.max_memory = 1024 * 1024;
  const SummaryCase cases[] = {
      {"PING\r\n", {{"PING", "ok"}}},
      {"*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n", {{"SET", "ok"}}},
      {"set k v\r\nget k\r\n", {{"SET", "ok"}, {"GET", "ok"}}},
      {"RPUSH l a\r\nGET l\r\n", {{"RPUSH", "ok"}, {"GET", "error"}}},
      {"NOSUCH\r\n", {{"NOSUCH", "error"}}},
      {"*1\r\n$x\r\n", {{"", "error"}}, true},  // a protocol error
      {"PING\r\n*1\r\n$x\r\n", {{"PING", "ok"}, {"", "error"}}, true},
  };
  for (const SummaryCase& c : cases) {
    RespFactory factory(settings);
    expect_summaries(c, [&](const ConnectionContext& context) { return factory.create(context); });
  }
}

}  // namespace
}  // namespace srv
