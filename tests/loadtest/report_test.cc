#include "loadtest/report.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace srv::loadtest {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Exit status of a shell command, or -1 if it did not exit normally.
int run_shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ComparePoint make_point(const std::string& strategy, int connections, int pipeline) {
  ComparePoint point;
  point.strategy = strategy;
  RunResult& run = point.run;
  run.protocol = "echo";
  run.target = "127.0.0.1:7000";
  run.connections = connections;
  run.pipeline = pipeline;
  run.size = 64;
  run.seconds = 10;
  // Made-up but shaped like real runs: threads fall behind as connections grow.
  double scale = strategy == "thread" ? 1.0 / (1 + connections / 100.0) : 1.0;
  run.requests = static_cast<std::uint64_t>(200000 * pipeline * scale) + connections;
  run.rps = static_cast<double>(run.requests) / run.seconds;
  run.bytes_sent = run.bytes_received = run.requests * 64;
  run.latency = {run.requests,        50.0 * connections / pipeline, 40.0 * connections,
                 80.0 * connections,  120.0 * connections,           300.0 * connections,
                 900.0 * connections, 1000.0 * connections};
  run.errors = strategy == "select" ? 2 : 0;
  if (run.errors > 0) run.error_kinds["bad reply"] = run.errors;
  ServerUsage& server = point.server;
  server.cpu_seconds = 0.5 + connections / 1000.0;
  server.idle_pss_bytes = 2u << 20;
  server.peak_pss_bytes = server.idle_pss_bytes + static_cast<std::uint64_t>(connections) *
                                                      (strategy == "thread" ? 80 : 4) * 1024;
  server.peak_rss_bytes = server.peak_pss_bytes + (1u << 20);
  server.peak_processes = 1;
  server.peak_threads = strategy == "thread" ? connections + 1 : 1;
  server.context_switches = run.requests / (strategy == "thread" ? 1 : 20);
  return point;
}

CompareReport make_report() {
  CompareReport report;
  report.machine = "Test CPU <fast> x4, Linux 6.1";
  report.date = "2024-05-01T12:00:00+0200";
  report.command = "srv-loadtest compare --strategies epoll,thread,select --out 'x & y'";
  for (int pipeline : {1, 16}) {
    for (const char* strategy : {"epoll", "thread", "select"}) {
      for (int connections : {10, 100, 1000}) {
        report.points.push_back(make_point(strategy, connections, pipeline));
      }
    }
  }
  ComparePoint& skipped = report.points[8];  // select, 1000 connections, pipeline 1
  skipped.skipped = "select: above FD_SETSIZE";
  skipped.server = {};
  return report;
}

/// Every src="..." and href="..." of the page that points into plots/.
std::vector<std::string> plot_references(const std::string& html) {
  std::vector<std::string> references;
  std::regex reference(R"re((?:src|href)="(plots/[^"]+)")re");
  for (std::sregex_iterator it(html.begin(), html.end(), reference), end; it != end; ++it) {
    references.push_back((*it)[1].str());
  }
  return references;
}

void expect_svg(const fs::path& path) {
  EXPECT_EQ(run_shell("xmllint --noout " + shell_quote(path.string())), 0)
      << path << " is not well-formed XML";
  // The first element, after the XML declaration, comments and doctype.
  std::string text = read_text(path);
  std::size_t at = 0;
  while ((at = text.find('<', at)) != std::string::npos &&
         (text.compare(at, 2, "<?") == 0 || text.compare(at, 2, "<!") == 0)) {
    ++at;
  }
  ASSERT_NE(at, std::string::npos) << path;
  EXPECT_EQ(text.compare(at, 4, "<svg"), 0) << path << " has no <svg> root";
}

void expect_png(const fs::path& path) {
  std::string data = read_text(path);
  ASSERT_GE(data.size(), 24u) << path;
  EXPECT_EQ(data.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  EXPECT_EQ(data.substr(12, 4), "IHDR") << path;
  auto big_endian = [&](std::size_t offset) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      value = value << 8 | static_cast<unsigned char>(data[offset + i]);
    }
    return value;
  };
  EXPECT_GT(big_endian(16), 0u) << path << " width";
  EXPECT_GT(big_endian(20), 0u) << path << " height";
}

class CompareReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "srv_report_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  /// Checks every plot the page references, and returns the references.
  static std::vector<std::string> check_referenced_plots(const fs::path& dir) {
    EXPECT_EQ(run_shell("command -v xmllint >/dev/null 2>&1"), 0)
        << "xmllint not found: install libxml2-utils";
    std::vector<std::string> references = plot_references(read_text(dir / "index.html"));
    for (const std::string& reference : references) {
      fs::path file = dir / reference;
      EXPECT_TRUE(fs::is_regular_file(file)) << reference << " is referenced but missing";
      if (!fs::is_regular_file(file)) continue;
      if (file.extension() == ".svg") expect_svg(file);
      if (file.extension() == ".png") expect_png(file);
    }
    return references;
  }

  fs::path dir_;
};

TEST_F(CompareReportTest, WritesJsonMarkdownPlotsAndPage) {
  CompareReport report = make_report();
  fs::path out = dir_ / "nested" / "report";  // created, parents included
  ASSERT_NO_THROW(write_compare_report(out, report));

  nlohmann::json results = nlohmann::json::parse(read_text(out / "results.json"));
  EXPECT_EQ(results["machine"], report.machine);
  EXPECT_EQ(results["date"], report.date);
  EXPECT_EQ(results["command"], report.command);
  ASSERT_EQ(results["points"].size(), report.points.size());
  for (std::size_t i = 0; i < report.points.size(); ++i) {
    const ComparePoint& point = report.points[i];
    const nlohmann::json& json = results["points"][i];
    SCOPED_TRACE(json.dump());
    EXPECT_EQ(json["strategy"], point.strategy);
    EXPECT_EQ(json["run"]["connections"], point.run.connections);
    EXPECT_EQ(json["run"]["pipeline"], point.run.pipeline);
    EXPECT_EQ(json["server"]["peak_pss_bytes"], point.server.peak_pss_bytes);
    for (const char* key :
         {"cpu_us_per_request", "memory_kib_per_connection", "context_switches_per_request"}) {
      ASSERT_TRUE(json.contains(key)) << key;
    }
    if (!point.skipped.empty()) {
      EXPECT_EQ(json["skipped"], point.skipped);
      continue;
    }
    EXPECT_TRUE(!json.contains("skipped") || json["skipped"] == "");
    double requests = static_cast<double>(point.run.requests);
    EXPECT_DOUBLE_EQ(json["cpu_us_per_request"].get<double>(),
                     point.server.cpu_seconds / requests * 1e6);
    EXPECT_DOUBLE_EQ(
        json["memory_kib_per_connection"].get<double>(),
        static_cast<double>(point.server.peak_pss_bytes - point.server.idle_pss_bytes) /
            point.run.connections / 1024);
    EXPECT_DOUBLE_EQ(json["context_switches_per_request"].get<double>(),
                     static_cast<double>(point.server.context_switches) / requests);
  }
  EXPECT_EQ(results["points"][4]["memory_kib_per_connection"].get<double>(), 80.0);

  std::string md = read_text(out / "results.md");
  EXPECT_NE(md.find("| strategy | connections | pipeline | size | req/s | p50 µs | p99 µs | "
                    "p99.9 µs | errors | CPU µs/req | peak PSS MiB | KiB/conn | processes | "
                    "threads | ctx sw/req |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| select | 1000 | 1 | 64 | skipped: select: above FD_SETSIZE |"),
            std::string::npos)
      << md;
  // epoll, 100 connections, pipeline 1: 200100 requests in 10 s, p50 4000 µs.
  EXPECT_NE(md.find("| epoll | 100 | 1 | 64 | 20,010 | 4000.0 | 12000.0 | 30000.0 | 0 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find(report.machine), std::string::npos);
  EXPECT_NE(md.find(report.command), std::string::npos);

  std::string html = read_text(out / "index.html");
  EXPECT_NE(html.find("<title>srv strategy comparison</title>"), std::string::npos);
  EXPECT_NE(html.find("Test CPU &lt;fast&gt; x4"), std::string::npos) << "machine not escaped";
  EXPECT_NE(html.find("&#39;x &amp; y&#39;"), std::string::npos) << "command not escaped";
  EXPECT_NE(html.find("skipped: select: above FD_SETSIZE"), std::string::npos);
  EXPECT_NE(html.find("pipeline 16, 64-byte payload"), std::string::npos);

  std::vector<std::string> references = check_referenced_plots(out);
  std::set<std::string> svgs;
  for (const std::string& reference : references) {
    if (fs::path(reference).extension() == ".svg") svgs.insert(reference);
  }
  // 2 scenarios x 4 metrics, each as SVG with a PNG link beside it.
  EXPECT_EQ(svgs.size(), 8u);
  for (const char* metric : {"throughput", "p99", "memory", "cpu"}) {
    for (const char* scenario : {"p1_s64", "p16_s64"}) {
      std::string stem = std::string("plots/") + metric + "_" + scenario;
      EXPECT_TRUE(svgs.contains(stem + ".svg")) << stem;
      EXPECT_TRUE(fs::is_regular_file(out / (stem + ".png"))) << stem;
    }
  }
  EXPECT_TRUE(fs::is_regular_file(out / "plots" / "plots.gp"));
  EXPECT_FALSE(fs::is_empty(out / "plots" / "data"));
}

TEST_F(CompareReportTest, SinglePointsAndAllSkippedScenarios) {
  CompareReport report;
  report.machine = describe_machine();
  report.date = "2024-05-01T12:00:00+0200";
  report.command = "srv-loadtest compare";
  report.points.push_back(make_point("epoll", 100, 1));  // alone in its plot
  ComparePoint skipped = make_point("select", 100, 1);   // no runnable point at all
  skipped.skipped = "select: not built";
  report.points.push_back(skipped);
  for (int connections : {10, 100}) {  // a scenario with nothing to draw
    ComparePoint point = make_point("thread", connections, 8);
    point.skipped = "thread: too many threads";
    report.points.push_back(point);
  }
  ASSERT_NO_THROW(write_compare_report(dir_, report));

  std::vector<std::string> references = check_referenced_plots(dir_);
  EXPECT_FALSE(references.empty());
  for (const std::string& reference : references) {
    EXPECT_EQ(reference.find("_p8_"), std::string::npos) << reference;
  }
  EXPECT_TRUE(fs::is_regular_file(dir_ / "plots" / "p99_p1_s64.svg"));
  EXPECT_FALSE(fs::exists(dir_ / "plots" / "p99_p8_s64.svg"));
  std::string gp = read_text(dir_ / "plots" / "plots.gp");
  EXPECT_EQ(gp.find("'select'"), std::string::npos) << "a strategy without points was drawn";
}

TEST_F(CompareReportTest, NothingToPlotStillWritesThePage) {
  CompareReport report;
  report.points.push_back(make_point("select", 100, 1));
  report.points.back().skipped = "select: not built";
  ASSERT_NO_THROW(write_compare_report(dir_, report));
  EXPECT_TRUE(plot_references(read_text(dir_ / "index.html")).empty());
  EXPECT_TRUE(fs::is_regular_file(dir_ / "results.json"));
}

TEST_F(CompareReportTest, UncreatableDirectoryThrows) {
  fs::path file = dir_ / "a_file";
  std::ofstream(file) << "not a directory";
  fs::path target = file / "report";
  try {
    write_compare_report(target, make_report());
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("cannot create report directory"), std::string::npos) << message;
    EXPECT_NE(message.find(target.string()), std::string::npos) << message;
  }
}

TEST(ReportJson, RunHasExactlyTheDocumentedKeys) {
  RunResult run = make_point("epoll", 10, 1).run;
  nlohmann::json json = to_json(run);
  std::set<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"protocol",
                                         "target",
                                         "connections",
                                         "pipeline",
                                         "threads",
                                         "rate",
                                         "size",
                                         "mix",
                                         "requests_per_connection",
                                         "seconds",
                                         "requests",
                                         "errors",
                                         "error_kinds",
                                         "bytes_sent",
                                         "bytes_received",
                                         "rps",
                                         "latency_us",
                                         "tls",
                                         "tls_resume",
                                         "tls_negotiated",
                                         "handshakes",
                                         "resumed"}));
  std::set<std::string> latency_keys;
  for (const auto& [key, value] : json["latency_us"].items()) latency_keys.insert(key);
  EXPECT_EQ(latency_keys, (std::set<std::string>{"count", "mean", "p50", "p90", "p99", "p99_9",
                                                 "p99_99", "max"}));
  EXPECT_EQ(json["latency_us"]["p99_9"], run.latency.p999_us);
  EXPECT_EQ(json["rps"], run.rps);
  EXPECT_TRUE(json["error_kinds"].is_object());

  run.error_kinds = {{"connect", 3}, {"bad reply", 1}};
  json = to_json(run);
  EXPECT_EQ(json["error_kinds"]["connect"], 3);
  EXPECT_EQ(json["error_kinds"]["bad reply"], 1);
}

TEST(ReportJson, ServerUsageHasExactlyTheDocumentedKeys) {
  ServerUsage usage;
  usage.cpu_seconds = 1.5;
  usage.peak_threads = 7;
  nlohmann::json json = to_json(usage);
  std::set<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"cpu_seconds", "idle_pss_bytes", "peak_pss_bytes",
                                         "peak_rss_bytes", "peak_processes", "peak_threads",
                                         "context_switches"}));
  EXPECT_EQ(json["cpu_seconds"], 1.5);
  EXPECT_EQ(json["peak_threads"], 7);
}

TEST(ReportMachine, DescribesCpuCountAndKernel) {
  std::string machine = describe_machine();
  EXPECT_TRUE(std::regex_search(machine, std::regex(R"(^.+ x[0-9]+, Linux \S+$)"))) << machine;
}

}  // namespace
}  // namespace srv::loadtest
