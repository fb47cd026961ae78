#include "loadtest/report.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "strategies/process_util.h"

namespace srv::loadtest {
namespace {

namespace fs = std::filesystem;

// ---- derived metrics: one definition for results.json, results.md, index.html and the plots

/// Server CPU time per verified reply; undefined without replies.
std::optional<double> cpu_us_per_request(const ComparePoint& point) {
  if (!point.skipped.empty() || point.run.requests == 0) return std::nullopt;
  return point.server.cpu_seconds / static_cast<double>(point.run.requests) * 1e6;
}

/// What the server grew by under load, per connection. PSS, not RSS, so that forked workers
/// sharing pages are not charged for them several times.
std::optional<double> memory_kib_per_connection(const ComparePoint& point) {
  if (!point.skipped.empty() || point.run.connections <= 0) return std::nullopt;
  const ServerUsage& server = point.server;
  std::uint64_t growth = server.peak_pss_bytes > server.idle_pss_bytes
                             ? server.peak_pss_bytes - server.idle_pss_bytes
                             : 0;
  return static_cast<double>(growth) / point.run.connections / 1024;
}

std::optional<double> context_switches_per_request(const ComparePoint& point) {
  if (!point.skipped.empty() || point.run.requests == 0) return std::nullopt;
  return static_cast<double>(point.server.context_switches) /
         static_cast<double>(point.run.requests);
}

std::optional<double> p99_latency_us(const ComparePoint& point) {
  if (!point.skipped.empty() || point.run.latency.count == 0) return std::nullopt;
  return point.run.latency.p99_us;
}

std::optional<double> throughput(const ComparePoint& point) {
  if (!point.skipped.empty()) return std::nullopt;
  return point.run.rps;
}

nlohmann::json optional_json(std::optional<double> value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// ---- files

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
}

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

// ---- the table, shared by results.md and index.html

const std::vector<std::string_view> kColumns = {
    "strategy",     "connections", "pipeline",  "size",    "req/s",
    "p50 µs",       "p99 µs",      "p99.9 µs",  "errors",  "CPU µs/req",
    "peak PSS MiB", "KiB/conn",    "processes", "threads", "ctx sw/req"};
constexpr std::size_t kScenarioColumns = 4;  // what a skipped row still shows
constexpr std::size_t kErrorsColumn = 8;

/// A report with TLS modes has a "TLS" scenario column after the strategy, and the
/// handshake rate and the share of them that resumed after the errors.
bool has_tls(const CompareReport& report) {
  return std::any_of(report.points.begin(), report.points.end(),
                     [](const ComparePoint& p) { return !p.tls_mode.empty(); });
}

std::vector<std::string_view> columns(bool tls) {
  std::vector<std::string_view> out = kColumns;
  if (!tls) return out;
  out.insert(out.begin() + kErrorsColumn + 1, {"handshakes/s", "resumed %"});
  out.insert(out.begin() + 1, "TLS");
  return out;
}

std::size_t scenario_columns(bool tls) {
  return kScenarioColumns + (tls ? 1 : 0);
}

std::string with_thousands(std::uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_optional(std::optional<double> value, int decimals) {
  return value ? fmt::format("{:.{}f}", *value, decimals) : "–";
}

/// The TLS cells of a row: handshakes per second and the share of them resumed.
std::vector<std::string> tls_cells(const ComparePoint& point) {
  const RunResult& run = point.run;
  if (!run.tls) return {"–", "–"};
  const double rate = run.seconds > 0 ? static_cast<double>(run.handshakes) / run.seconds : 0;
  return {with_thousands(static_cast<std::uint64_t>(std::llround(rate))),
          run.handshakes > 0 ? fmt::format("{:.1f}", 100.0 * static_cast<double>(run.resumed) /
                                                         static_cast<double>(run.handshakes))
                             : "–"};
}

/// The cells of one row; a skipped point has the scenario cells and then the reason alone.
std::vector<std::string> table_row(const ComparePoint& point, bool tls) {
  const RunResult& run = point.run;
  std::vector<std::string> cells = {point.strategy, std::to_string(run.connections),
                                    std::to_string(run.pipeline), std::to_string(run.size)};
  if (tls) cells.insert(cells.begin() + 1, point.tls_mode);
  if (!point.skipped.empty()) {
    cells.push_back("skipped: " + point.skipped);
    return cells;
  }
  const ServerUsage& server = point.server;
  cells.push_back(with_thousands(static_cast<std::uint64_t>(std::llround(std::max(0.0, run.rps)))));
  cells.push_back(fmt::format("{:.1f}", run.latency.p50_us));
  cells.push_back(fmt::format("{:.1f}", run.latency.p99_us));
  cells.push_back(fmt::format("{:.1f}", run.latency.p999_us));
  cells.push_back(std::to_string(run.errors));
  if (tls) {
    for (std::string& cell : tls_cells(point)) cells.push_back(std::move(cell));
  }
  cells.push_back(format_optional(cpu_us_per_request(point), 1));
  cells.push_back(fmt::format("{:.1f}", static_cast<double>(server.peak_pss_bytes) / (1 << 20)));
  cells.push_back(format_optional(memory_kib_per_connection(point), 1));
  cells.push_back(std::to_string(server.peak_processes));
  cells.push_back(std::to_string(server.peak_threads));
  cells.push_back(format_optional(context_switches_per_request(point), 2));
  return cells;
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string markdown_code(std::string_view text) {
  // A backtick inside needs a longer fence, and spaces so that it does not touch it.
  if (text.find('`') == std::string_view::npos) return fmt::format("`{}`", text);
  return fmt::format("`` {} ``", text);
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string results_markdown(const CompareReport& report) {
  std::string md = "# srv strategy comparison\n\n";
  md += fmt::format("- Machine: {}\n- Date: {}\n- Command: {}\n\n", markdown_cell(report.machine),
                    markdown_cell(report.date), markdown_code(report.command));
  const bool tls = has_tls(report);
  const std::vector<std::string_view> all_columns = columns(tls);
  std::string header = "|", rule = "|";
  for (std::string_view column : all_columns) {
    header += fmt::format(" {} |", column);
    rule += column == "strategy" || column == "TLS" ? " --- |" : " ---: |";
  }
  md += header + "\n" + rule + "\n";
  for (const ComparePoint& point : report.points) {
    std::vector<std::string> cells = table_row(point, tls);
    cells.resize(all_columns.size());  // a skipped row's tail stays empty
    md += "|";
    for (const std::string& cell : cells) md += " " + markdown_cell(cell) + " |";
    md += "\n";
  }
  return md;
}

// ---- plots

struct Metric {
  std::string_view name;  ///< in the file names
  std::string_view title;
  std::string_view ylabel;
  bool log_y;
  std::optional<double> (*value)(const ComparePoint&);
};

const Metric kMetrics[] = {
    {"throughput", "Throughput", "requests/s", false, throughput},
    {"p99", "p99 latency", "p99 latency (µs)", true, p99_latency_us},
    {"memory", "Memory per connection", "PSS growth per connection (KiB)", false,
     memory_kib_per_connection},
    {"cpu", "CPU time per request", "server CPU time per request (µs)", false, cpu_us_per_request},
};

struct Scenario {
  std::string tls_mode;  ///< empty: a report without TLS modes
  int pipeline;
  std::size_t size;
  auto operator<=>(const Scenario&) const = default;
};

std::string describe_tls(const std::string& mode) {
  if (mode.empty()) return "";
  if (mode == "plain") return ", no TLS";
  if (mode == "keepalive") return ", TLS keep-alive";
  if (mode == "full") return ", TLS, full handshakes";
  if (mode == "resumed") return ", TLS, resumed handshakes";
  return ", TLS " + mode;
}

std::string describe(const Scenario& scenario) {
  return fmt::format("pipeline {}, {}-byte payload{}", scenario.pipeline, scenario.size,
                     describe_tls(scenario.tls_mode));
}

/// One drawn plot: the file stem (plots/<stem>.svg and .png) and where it belongs.
struct Plot {
  Scenario scenario;
  const Metric* metric;
  std::string stem;
};

/// Filled circle, square, triangles, diamond, pentagon, then their outlines: told apart even
/// where the colours are close.
constexpr int kPointTypes[] = {7, 5, 9, 11, 13, 15, 6, 4, 8, 10, 12, 14};

/// A gnuplot string literal: single quotes take everything verbatim but a doubled quote.
std::string gp_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    if (c != '\n') out += c;
  }
  return out + "'";
}

/// Writes the data of one (scenario, metric) plot and its gnuplot commands; nullopt when no
/// strategy has a point to draw.
std::optional<Plot> add_plot(const fs::path& plots_dir, const Scenario& scenario,
                             const Metric& metric, const std::vector<std::string>& strategies,
                             const std::vector<const ComparePoint*>& points, std::string& script) {
  struct Series {
    std::string strategy;
    std::vector<std::pair<int, double>> points;  // (connections, value)
  };
  std::vector<Series> series;
  for (const std::string& strategy : strategies) {
    Series line{strategy, {}};
    for (const ComparePoint* point : points) {
      if (point->strategy != strategy || point->run.connections <= 0) continue;
      std::optional<double> value = metric.value(*point);
      // A log axis cannot place zero or less; NaN would only break the line.
      if (!value || !std::isfinite(*value) || (metric.log_y && *value <= 0)) continue;
      line.points.emplace_back(point->run.connections, *value);
    }
    if (line.points.empty()) continue;
    std::sort(line.points.begin(), line.points.end());
    series.push_back(std::move(line));
  }
  if (series.empty()) return std::nullopt;

  std::string stem = fmt::format("{}{}_p{}_s{}", metric.name,
                                 scenario.tls_mode.empty() ? "" : "_" + scenario.tls_mode,
                                 scenario.pipeline, scenario.size);
  std::string data_name = "data/" + stem + ".tsv";
  std::string tsv =
      fmt::format("# {}: {} by connections, one block per strategy\n", metric.title, metric.ylabel);
  int min_x = series.front().points.front().first, max_x = min_x;
  double min_y = series.front().points.front().second, max_y = min_y;
  std::vector<int> all_x;
  for (const Series& line : series) {
    tsv += fmt::format("# {}\n# connections\t{}\n", line.strategy, metric.name);
    for (auto [x, y] : line.points) {
      tsv += fmt::format("{}\t{}\n", x, y);
      min_x = std::min(min_x, x);
      max_x = std::max(max_x, x);
      min_y = std::min(min_y, y);
      max_y = std::max(max_y, y);
      all_x.push_back(x);
    }
    tsv += "\n\n";  // gnuplot's block separator, for `index`
  }
  write_file(plots_dir / data_name, tsv);

  // The ranges are set explicitly so that a single point (or a flat line) still gets a
  // non-empty range instead of gnuplot's warning and a collapsed axis.
  script += fmt::format("\n# {} — {}\nreset\n", metric.title, describe(scenario));
  script += fmt::format("set title {}\n",
                        gp_quote(fmt::format("{} — {}", metric.title, describe(scenario))));
  script += "set xlabel 'connections'\nset logscale x\n";
  script += fmt::format("set xrange [{}:{}]\n", min_x / 1.4, max_x * 1.4);
  std::sort(all_x.begin(), all_x.end());
  all_x.erase(std::unique(all_x.begin(), all_x.end()), all_x.end());
  if (all_x.size() <= 12) {  // the measured counts themselves, rather than powers of ten
    std::string tics;
    for (int x : all_x) tics += fmt::format("{}'{}' {}", tics.empty() ? "" : ", ", x, x);
    script += fmt::format("set xtics ({})\n", tics);
  }
  script += fmt::format("set ylabel {}\n", gp_quote(metric.ylabel));
  if (metric.log_y) {
    // Whole decades, so that every axis has at least two labelled tics.
    double low = std::pow(10, std::floor(std::log10(min_y)));
    double high = std::pow(10, std::ceil(std::log10(max_y)));
    if (high <= low) high = low * 10;
    script += fmt::format("set logscale y\nset yrange [{}:{}]\nset format y '{}'\n", low, high,
                          low >= 1 ? "%.0f" : "%g");  // 1000000 reads better than 1e+06
  } else {
    script += fmt::format("set yrange [0:{}]\n", max_y > 0 ? max_y * 1.1 : 1.0);
  }
  script += "set grid xtics ytics mytics\nset key outside right top\n";
  std::string plot = "plot";
  for (std::size_t i = 0; i < series.size(); ++i) {
    plot += fmt::format("{} {} index {} using 1:2 with linespoints lw 2 pt {} ps 1.2 title {}",
                        i == 0 ? "" : ",", gp_quote(data_name), i,
                        kPointTypes[i % std::size(kPointTypes)], gp_quote(series[i].strategy));
  }
  script += fmt::format(
      "set terminal svg size 900,500 dynamic noenhanced font 'sans,12' background rgb 'white'\n"
      "set output {}\n{}\nunset output\n",
      gp_quote(stem + ".svg"), plot);
  script += fmt::format(
      "set terminal pngcairo size 900,500 noenhanced font 'sans,10' background rgb 'white'\n"
      "set output {}\n{}\nunset output\n",
      gp_quote(stem + ".png"), plot);
  return Plot{scenario, &metric, stem};
}

std::string find_in_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    std::size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

/// Runs `gnuplot plots.gp` in `plots_dir`, its messages going to gnuplot.log there.
void run_gnuplot(const fs::path& plots_dir) {
  std::string gnuplot = find_in_path("gnuplot");
  if (gnuplot.empty()) throw std::runtime_error("gnuplot not found: install gnuplot-nox");
  fs::path log_path = plots_dir / "gnuplot.log";
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", log_path.string(), std::strerror(errno)));
  }
  // Everything the child touches is prepared before fork: after it, only async-signal-safe
  // calls, since the caller may have threads.
  std::string dir = plots_dir.string();
  std::string script = "plots.gp";
  char* argv[] = {gnuplot.data(), script.data(), nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (::chdir(dir.c_str()) == 0) ::execv(argv[0], argv);
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(log_fd);
  if (pid < 0) {
    throw std::runtime_error(fmt::format("cannot start gnuplot: {}", std::strerror(fork_errno)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::string log = read_file(log_path).value_or("");
  log.erase(log.find_last_not_of(" \t\r\n") + 1);
  if (log.size() > 2000) log = "..." + log.substr(log.size() - 2000);
  throw std::runtime_error(fmt::format("gnuplot {} (script {}, messages in {}){}{}",
                                       describe_exit(status), (plots_dir / script).string(),
                                       log_path.string(), log.empty() ? "" : ":\n", log));
}

/// Writes plots/data/*.tsv and plots/plots.gp, runs gnuplot and returns the plots it drew.
std::vector<Plot> draw_plots(const fs::path& plots_dir, const CompareReport& report) {
  std::vector<std::string> strategies;  // in the order the report has them
  std::map<Scenario, std::vector<const ComparePoint*>> scenarios;
  for (const ComparePoint& point : report.points) {
    if (std::find(strategies.begin(), strategies.end(), point.strategy) == strategies.end()) {
      strategies.push_back(point.strategy);
    }
    scenarios[Scenario{point.tls_mode, point.run.pipeline, point.run.size}].push_back(&point);
  }
  std::string script =
      "# Written by srv-loadtest compare; run `gnuplot plots.gp` in this directory.\n"
      "set encoding utf8\n";
  std::vector<Plot> plots;
  for (const auto& [scenario, points] : scenarios) {
    for (const Metric& metric : kMetrics) {
      std::optional<Plot> plot = add_plot(plots_dir, scenario, metric, strategies, points, script);
      if (plot) plots.push_back(std::move(*plot));
    }
  }
  write_file(plots_dir / "plots.gp", script);
  if (plots.empty()) return plots;  // every point skipped: nothing to draw, no gnuplot needed
  run_gnuplot(plots_dir);
  for (const Plot& plot : plots) {
    for (std::string_view ext : {".svg", ".png"}) {
      fs::path file = plots_dir / (plot.stem + std::string(ext));
      std::error_code ec;
      if (fs::file_size(file, ec) == 0 || ec) {
        throw std::runtime_error(fmt::format("gnuplot did not draw {}", file.string()));
      }
    }
  }
  return plots;
}

// ---- index.html

constexpr std::string_view kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0.2em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; }
code { background: #f3f3f3; padding: 0.1em 0.3em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #eee; }
td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
td.skipped { text-align: left; color: #888; font-style: italic; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
figure img { width: 100%; max-width: 900px; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
)";

std::string index_html(const CompareReport& report, const std::vector<Plot>& plots) {
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>srv strategy comparison</title>\n<style>{}</style>\n</head>\n<body>\n"
      "<h1>srv strategy comparison</h1>\n<dl>\n<dt>Machine</dt><dd>{}</dd>\n"
      "<dt>Date</dt><dd>{}</dd>\n<dt>Command</dt><dd><code>{}</code></dd>\n"
      "<dt>Data</dt><dd><a href=\"results.json\">results.json</a>, "
      "<a href=\"results.md\">results.md</a></dd>\n</dl>\n",
      kStyle, html_escape(report.machine), html_escape(report.date), html_escape(report.command));

  const bool tls = has_tls(report);
  const std::vector<std::string_view> all_columns = columns(tls);
  const std::size_t scenario_cells = scenario_columns(tls);
  html += "<h2>Results</h2>\n<table>\n<thead><tr>";
  for (std::string_view column : all_columns) html += fmt::format("<th>{}</th>", column);
  html += "</tr></thead>\n<tbody>\n";
  for (const ComparePoint& point : report.points) {
    std::vector<std::string> cells = table_row(point, tls);
    html += "<tr>";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i == scenario_cells && !point.skipped.empty()) {
        html += fmt::format("<td class=\"skipped\" colspan=\"{}\">{}</td>",
                            all_columns.size() - scenario_cells, html_escape(cells[i]));
      } else {
        html += fmt::format("<td>{}</td>", html_escape(cells[i]));
      }
    }
    html += "</tr>\n";
  }
  html += "</tbody>\n</table>\n";

  std::optional<Scenario> current;
  for (const Plot& plot : plots) {
    if (!current || *current != plot.scenario) {
      html += current ? "</div>\n" : "";
      html += fmt::format("<h2>{}</h2>\n<div class=\"plots\">\n", describe(plot.scenario));
      current = plot.scenario;
    }
    std::string title = fmt::format("{} — {}", plot.metric->title, describe(plot.scenario));
    html += fmt::format(
        "<figure><img src=\"plots/{0}.svg\" alt=\"{1}\">"
        "<figcaption>{1} (<a href=\"plots/{0}.png\">PNG</a>, "
        "<a href=\"plots/data/{0}.tsv\">data</a>)</figcaption></figure>\n",
        html_escape(plot.stem), html_escape(title));
  }
  if (current) html += "</div>\n";
  if (plots.empty()) html += "<p>No point was run, so there is nothing to plot.</p>\n";
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace

nlohmann::json to_json(const RunResult& run) {
  const LatencySummary& latency = run.latency;
  return {
      {"protocol", run.protocol},
      {"target", run.target},
      {"connections", run.connections},
      {"pipeline", run.pipeline},
      {"threads", run.threads},
      {"rate", run.rate},
      {"size", run.size},
      {"mix", run.mix},
      {"requests_per_connection", run.requests_per_connection},
      {"seconds", run.seconds},
      {"requests", run.requests},
      {"errors", run.errors},
      {"error_kinds", run.error_kinds},
      {"bytes_sent", run.bytes_sent},
      {"bytes_received", run.bytes_received},
      {"rps", run.rps},
      {"tls", run.tls},
      {"tls_resume", run.tls_resume},
      {"tls_negotiated", run.tls_negotiated},
      {"handshakes", run.handshakes},
      {"resumed", run.resumed},
      {"latency_us",
       {{"count", latency.count},
        {"mean", latency.mean_us},
        {"p50", latency.p50_us},
        {"p90", latency.p90_us},
        {"p99", latency.p99_us},
        {"p99_9", latency.p999_us},
        {"p99_99", latency.p9999_us},
        {"max", latency.max_us}}},
  };
}

nlohmann::json to_json(const ServerUsage& usage) {
  return {
      {"cpu_seconds", usage.cpu_seconds},           {"idle_pss_bytes", usage.idle_pss_bytes},
      {"peak_pss_bytes", usage.peak_pss_bytes},     {"peak_rss_bytes", usage.peak_rss_bytes},
      {"peak_processes", usage.peak_processes},     {"peak_threads", usage.peak_threads},
      {"context_switches", usage.context_switches},
  };
}

std::string describe_machine() {
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(cpuinfo, line);) {
    // x86 says "model name"; some ARM kernels only "Hardware" or "Processor".
    for (std::string_view key : {"model name", "Hardware", "Processor"}) {
      if (line.rfind(key, 0) != 0) continue;
      std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::size_t start = line.find_first_not_of(" \t", colon + 1);
      if (start != std::string::npos) model = line.substr(start);
      break;
    }
  }
  if (model.empty()) model = "unknown CPU";
  utsname names{};
  std::string release = ::uname(&names) == 0 ? names.release : "unknown";
  return fmt::format("{} x{}, Linux {}", model, ::sysconf(_SC_NPROCESSORS_ONLN), release);
}

void write_compare_report(const fs::path& dir, const CompareReport& report) {
  fs::path plots_dir = dir / "plots";
  std::error_code ec;
  fs::create_directories(plots_dir / "data", ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("cannot create report directory {}: {}", dir.string(), ec.message()));
  }

  nlohmann::json points = nlohmann::json::array();
  for (const ComparePoint& point : report.points) {
    nlohmann::json entry = {
        {"strategy", point.strategy},
        {"run", to_json(point.run)},
        {"server", to_json(point.server)},
        {"cpu_us_per_request", optional_json(cpu_us_per_request(point))},
        {"memory_kib_per_connection", optional_json(memory_kib_per_connection(point))},
        {"context_switches_per_request", optional_json(context_switches_per_request(point))},
    };
    if (!point.skipped.empty()) entry["skipped"] = point.skipped;
    if (!point.tls_mode.empty()) entry["tls_mode"] = point.tls_mode;
    points.push_back(std::move(entry));
  }
  nlohmann::json results = {{"machine", report.machine},
                            {"date", report.date},
                            {"command", report.command},
                            {"points", std::move(points)}};
  write_file(dir / "results.json",
             results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_file(dir / "results.md", results_markdown(report));
  std::vector<Plot> plots = draw_plots(plots_dir, report);
  write_file(dir / "index.html", index_html(report, plots));
}

}  // namespace srv::loadtest
