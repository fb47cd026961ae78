#include "loadtest/compare.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "loadtest/load_engine.h"
#include "loadtest/proc_sampler.h"
#include "loadtest/report.h"
#include "loadtest/server_process.h"
#include "loadtest/summary.h"
#include "loadtest/tls_cert.h"

namespace srv::loadtest {
namespace {

namespace fs = std::filesystem;

const char* const kTlsModes[] = {"plain", "keepalive", "full", "resumed"};

constexpr double kSampleEvery = 0.25;  // seconds between /proc readings under load
constexpr int kSlack = 16;             // max_connections above the clients: probes, reconnects

std::vector<std::string> list_strategies(const std::string& srv) {
  const CommandResult listed = run_command({srv, "--list-strategies"});
  if (listed.status != 0) throw std::runtime_error(srv + " --list-strategies failed");
  std::vector<std::string> names;
  std::istringstream lines(listed.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    if (std::string name; words >> name) names.push_back(name);
  }
  return names;
}

/// How one point runs: its TLS mode and what follows from it.
struct PointMode {
  std::string name;                 ///< as in CompareOptions::tls_modes; empty: no TLS modes
  bool tls = false;                 ///< srv listens with TLS, the load speaks it
  bool resume = false;              ///< the load resumes sessions
  int requests_per_connection = 0;  ///< 0: keep-alive
};

PointMode point_mode(const CompareOptions& o, const std::string& name) {
  PointMode mode{name, name != "" && name != "plain", name == "resumed", o.requests_per_connection};
  if ((name == "full" || name == "resumed") && mode.requests_per_connection == 0) {
    mode.requests_per_connection = 1;
  }
  return mode;
}

// The srv command line of one point. Pools are sized to the clients, as an operator would size
// them; a size the strategy refuses makes the point "skipped" with srv's own reason. A TLS
// listener is described by `tls_config` (written by the caller), which replaces --listen.
std::vector<std::string> srv_command(const CompareOptions& o, const std::string& strategy,
                                     int connections, int requests_per_connection, int port,
                                     const fs::path& tls_config) {
  // A client that reconnects after each reply opens its next connection before the server has
  // seen the last one close, so such a run needs room for both.
  const int max_connections =
      (requests_per_connection > 0 ? 2 * connections : connections) + kSlack;
  std::vector<std::string> argv{o.srv, "--strategy=" + strategy};
  if (tls_config.empty()) {
    argv.push_back("--protocol=" + o.protocol);
    argv.push_back(fmt::format("--listen=127.0.0.1:{}", port));
  } else {
    argv.push_back("--config=" + tls_config.string());
  }
  argv.push_back(fmt::format("--max-connections={}", max_connections));
  if (strategy == "prefork") argv.push_back(fmt::format("--workers={}", connections));
  if (strategy == "threadpool") argv.push_back(fmt::format("--threads={}", connections));
  argv.insert(argv.end(), o.srv_args.begin(), o.srv_args.end());
  return argv;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "refused by srv --check-config" : line;
}

// Reads the server's tree at the start and near the end of the measured time (CPU and context
// switches, scaled to the whole measured time), and in between as often as a full reading
// allows (the peaks of memory, processes and threads). The end reading is taken early on
// purpose: reading /proc takes a while, and once the clients close, a server's connection
// threads or children exit and their context switches are gone.
class UsageWatcher {
 public:
  using Clock = std::chrono::steady_clock;
  using Seconds = std::chrono::duration<double>;

  UsageWatcher(pid_t root, double measure_after, double measure_for) : sampler_(root) {
    usage_.idle_pss_bytes = sampler_.sample().pss_bytes;
    const Clock::time_point measure_at = Clock::now() + to_clock(measure_after);
    const Clock::time_point measure_end = measure_at + to_clock(measure_for);
    thread_ = std::jthread([=, this](std::stop_token stop) {
      sleep_until(measure_at, stop);
      const auto before_start = Clock::now();
      const auto [started, start] = timed_sample(false);
      // The end reading must be over before the clients close: start it early by twice what
      // the start reading took (a second or more with thousands of processes), at least 0.2 s.
      const Clock::duration lead =
          std::max<Clock::duration>(to_clock(0.2), 2 * (Clock::now() - before_start));
      const Clock::time_point end_at = std::max(started, measure_end - lead);
      Clock::duration full_reading{0};
      while (!stop.stop_requested() && Clock::now() + full_reading < end_at) {
        const auto before = Clock::now();
        note_peaks(sampler_.sample(true));
        full_reading = Clock::now() - before;
        sleep_until(std::min(end_at - full_reading, Clock::now() + to_clock(kSampleEvery)), stop);
      }
      sleep_until(end_at, stop);
      const auto [ended, end] = timed_sample(false);
      const double scale = measure_for / std::max(1e-3, Seconds(ended - started).count());
      usage_.cpu_seconds = std::max(0.0, end.cpu_seconds - start.cpu_seconds) * scale;
      if (end.context_switches > start.context_switches) {
        usage_.context_switches = static_cast<std::uint64_t>(
            static_cast<double>(end.context_switches - start.context_switches) * scale);
      }
    });
  }

  /// Call after the load ends, before the server is stopped.
  ServerUsage finish() {
    thread_.join();
    return usage_;
  }

 private:
  static Clock::duration to_clock(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(Seconds(seconds));
  }
  static void sleep_until(Clock::time_point when, const std::stop_token& stop) {
    while (!stop.stop_requested() && Clock::now() < when) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(when - Clock::now(), std::chrono::milliseconds(5)));
    }
  }
  // A reading and the moment it stands for: the middle of the time it took.
  std::pair<Clock::time_point, ProcessSample> timed_sample(bool memory) {
    const auto before = Clock::now();
    ProcessSample s = sampler_.sample(memory);
    note_peaks(s);
    return {before + (Clock::now() - before) / 2, s};
  }
  void note_peaks(const ProcessSample& s) {
    usage_.peak_pss_bytes = std::max(usage_.peak_pss_bytes, s.pss_bytes);
    usage_.peak_rss_bytes = std::max(usage_.peak_rss_bytes, s.rss_bytes);
    usage_.peak_processes = std::max(usage_.peak_processes, s.processes);
    usage_.peak_threads = std::max(usage_.peak_threads, s.threads);
  }

  ProcessTreeSampler sampler_;
  ServerUsage usage_;
  std::jthread thread_;
};

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&t));
  return text;
}

double ramp_for(const CompareOptions& o, int connections) {
  return o.ramp >= 0 ? o.ramp : std::min(2.0, connections / 5000.0);
}

// Runs one point on a fresh server; fills point.run/server, or point.skipped. False if the
// server failed to start (the matrix goes on, the exit status says so).
bool run_point(const CompareOptions& o, ComparePoint& point, const std::string& log_name) {
  const PointMode mode = point_mode(o, point.tls_mode);
  const int port = free_port();
  const fs::path tls_dir = fs::absolute(o.out / "tls");
  fs::path config;
  if (mode.tls) {
    config = fs::absolute(o.out / "logs" / (log_name + ".yaml"));
    std::ofstream(config) << tls_listener_config(port, o.protocol, tls_dir / "cert.pem",
                                                 tls_dir / "key.pem");
  }
  const auto argv = srv_command(o, point.strategy, point.run.connections,
                                mode.requests_per_connection, port, config);
  auto check = argv;
  check.push_back("--check-config");
  if (const CommandResult r = run_command(check); r.status != 0) {
    point.skipped = first_line(r.output);
    return true;
  }
  const auto log = o.out / "logs" / (log_name + ".log");
  ServerProcess server(argv, log);
  if (!server.wait_ready(port, 10)) {
    point.skipped = "srv did not start: " + first_line(tail_of(log, 1));
    return false;
  }
  LoadOptions load;
  load.port = static_cast<std::uint16_t>(port);
  load.connections = point.run.connections;
  load.pipeline = point.run.pipeline;
  load.threads = std::min(o.threads, point.run.connections);
  load.duration = o.duration;
  load.warmup = o.warmup;
  load.ramp = ramp_for(o, point.run.connections);
  load.requests_per_connection = mode.requests_per_connection;
  load.tls.enabled = mode.tls;
  load.tls.resume = mode.resume;
  if (mode.tls) load.tls.ca_file = (tls_dir / "cert.pem").string();  // self-signed: its own CA
  WorkloadOptions work;
  work.protocol = o.protocol;
  work.size = static_cast<long>(point.run.size);
  if (!o.mix.empty()) work.mix = parse_mix(o.mix);
  const auto workload = make_workload(work);

  UsageWatcher watcher(server.pid(), 0.01 + load.ramp + load.warmup, load.duration);
  RunResult run = run_load(load, *workload, {});
  point.server = watcher.finish();
  server.stop();
  run.protocol = o.protocol;
  point.run = run;
  return true;
}

void print_point(const ComparePoint& point) {
  const std::string where =
      fmt::format("{:<10} {}c={:<6} p={:<3} s={:<6}", point.strategy,
                  point.tls_mode.empty() ? "" : fmt::format("{:<9} ", point.tls_mode),
                  point.run.connections, point.run.pipeline, point.run.size);
  if (!point.skipped.empty()) {
    std::cerr << fmt::format("{} skipped: {}\n", where, point.skipped);
    return;
  }
  std::cerr << fmt::format(
      "{} {:>10.0f} req/s  p99 {:>9}  errors {}  cpu {:.1f}us/req  pss {:.1f}MiB{}\n", where,
      point.run.rps, format_latency(point.run.latency.p99_us), point.run.errors,
      point.run.requests ? point.server.cpu_seconds * 1e6 / static_cast<double>(point.run.requests)
                         : 0.0,
      static_cast<double>(point.server.peak_pss_bytes) / (1 << 20),
      point.run.tls
          ? fmt::format("  handshakes {} resumed {}", point.run.handshakes, point.run.resumed)
          : "");
}

// The certificate every TLS srv of the run serves, made once in <out>/tls.
void make_credentials(const CompareOptions& o) {
  const bool tls = std::any_of(o.tls_modes.begin(), o.tls_modes.end(),
                               [](const std::string& m) { return m != "plain"; });
  if (!tls) return;
  fs::create_directories(o.out / "tls");
  write_self_signed(make_self_signed("localhost"), o.out / "tls" / "cert.pem",
                    o.out / "tls" / "key.pem");
}

}  // namespace

void validate_tls_modes(const CompareOptions& o) {
  for (std::size_t i = 0; i < o.tls_modes.size(); ++i) {
    const std::string& mode = o.tls_modes[i];
    if (std::find(std::begin(kTlsModes), std::end(kTlsModes), mode) == std::end(kTlsModes)) {
      throw std::invalid_argument(
          fmt::format("--tls-modes: unknown '{}' (known: plain, keepalive, full, resumed)", mode));
    }
    if (std::find(o.tls_modes.begin(), o.tls_modes.begin() + static_cast<long>(i), mode) !=
        o.tls_modes.begin() + static_cast<long>(i)) {
      throw std::invalid_argument(fmt::format("--tls-modes: '{}' twice", mode));
    }
    if (mode == "keepalive" && o.requests_per_connection > 0) {
      throw std::invalid_argument(
          "--tls-modes keepalive keeps connections open: drop --requests-per-connection, or "
          "use full or resumed");
    }
  }
}

std::string tls_listener_config(int port, const std::string& protocol, const fs::path& cert,
                                const fs::path& key) {
  // Paths as YAML double-quoted strings: a backslash or a quote in them stays what it is.
  const auto quoted = [](const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  return fmt::format(
      "# Written by srv-loadtest compare: one TLS listener, a throwaway certificate.\n"
      "listeners:\n"
      "  - listen: 127.0.0.1:{}\n"
      "    protocol: {}\n"
      "    tls:\n"
      "      cert: {}\n"
      "      key: {}\n",
      port, protocol, quoted(cert.string()), quoted(key.string()));
}

int run_compare(const CompareOptions& o, const std::string& command) {
  if (o.connections.empty() || o.pipelines.empty() || o.sizes.empty()) {
    throw std::invalid_argument("compare: --connections, --pipeline and --size need a value each");
  }
  validate_tls_modes(o);
  std::filesystem::create_directories(o.out / "logs");
  make_credentials(o);
  CompareReport report;
  report.machine = describe_machine();
  report.date = now_iso();
  report.command = command;
  const auto strategies = o.strategies.empty() ? list_strategies(o.srv) : o.strategies;
  // Before any srv starts, so that every server inherits room for the largest point.
  try {
    reserve_descriptors(*std::max_element(o.connections.begin(), o.connections.end()));
  } catch (const std::invalid_argument& e) {
    std::cerr << "srv-loadtest: " << e.what() << "; points that need more are skipped\n";
  }
  const std::vector<std::string> modes =
      o.tls_modes.empty() ? std::vector<std::string>{""} : o.tls_modes;
  bool all_started = true;
  for (const std::string& strategy : strategies) {
    for (const std::string& mode : modes) {
      for (int pipeline : o.pipelines) {
        for (long size : o.sizes) {
          for (int connections : o.connections) {
            ComparePoint point;
            point.strategy = strategy;
            point.tls_mode = mode;
            point.run.protocol = o.protocol;
            point.run.connections = connections;
            point.run.pipeline = pipeline;
            point.run.threads = std::min(o.threads, connections);
            WorkloadOptions defaults;
            defaults.protocol = o.protocol;
            defaults.size = size;
            point.run.size = make_workload(defaults)->size();
            const std::string name =
                fmt::format("{}{}-c{}-p{}-s{}", strategy, mode.empty() ? "" : "-" + mode,
                            connections, pipeline, point.run.size);
            try {
              all_started = run_point(o, point, name) && all_started;
            } catch (const std::exception& e) {
              point.skipped = e.what();  // e.g. more connections than descriptors: the rest go on
            }
            print_point(point);
            report.points.push_back(std::move(point));
          }
        }
      }
    }
  }
  write_compare_report(o.out, report);
  std::cerr << fmt::format("report: {}\n", (o.out / "index.html").string());
  std::ifstream md(o.out / "results.md");
  std::cout << md.rdbuf();
  return all_started ? 0 : 1;
}

}  // namespace srv::loadtest
