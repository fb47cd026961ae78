// srv-loadtest: load one server (the default command), or compare srv's strategies (compare).
//   srv-loadtest --target 127.0.0.1:7000 --protocol http -c 64 -d 10
//   srv-loadtest compare --out report --connections 1,64,1000
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <stdexcept>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "config/section.h"
#include "loadtest/compare.h"
#include "loadtest/load_engine.h"
#include "loadtest/report.h"
#include "loadtest/summary.h"

namespace {

using srv::loadtest::CompareOptions;
using srv::loadtest::LoadOptions;
using srv::loadtest::WorkloadOptions;

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int) {
  g_stop.store(true);
  signal(SIGINT, SIG_DFL);  // a second ^C ends the process at once
}

// "5", "5s", "500ms", "2m" -> seconds, with srv's own duration syntax.
double parse_seconds(const std::string& text, const std::string& what) {
  const std::optional<double> ms = srv::parse_duration_ms(text);
  if (ms && *ms >= 0) return *ms / 1e3;
  std::size_t used = 0;  // only to name what is wrong
  try {
    if (!ms) std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used == 0) throw std::invalid_argument(fmt::format("{}: not a duration: '{}'", what, text));
  throw std::invalid_argument(
      fmt::format("{}: unknown unit '{}' (ms, s, m, h)", what, text.substr(used)));
}

// HOST:PORT or [V6]:PORT.
void parse_target(const std::string& text, LoadOptions& load) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw std::invalid_argument(fmt::format("--target: expected HOST:PORT, got '{}'", text));
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const int port = std::atoi(text.c_str() + colon + 1);
  if (port < 1 || port > 65535) throw std::invalid_argument("--target: port must be 1-65535");
  load.host = host.empty() ? "127.0.0.1" : host;
  load.port = static_cast<std::uint16_t>(port);
}

int run(const LoadOptions& load, WorkloadOptions work, const std::string& mix, bool json,
        bool live) {
  if (!mix.empty()) work.mix = srv::loadtest::parse_mix(mix);
  work.host = load.host;
  const auto workload = srv::loadtest::make_workload(work);
  if (load.tls.enabled && load.tls.ca_file.empty()) {
    std::cerr << "srv-loadtest: --tls without --tls-ca: the server's certificate is not verified\n";
  }
  signal(SIGINT, on_interrupt);
  auto tick = [&](const srv::loadtest::LiveTick& t) {
    if (live) std::cerr << srv::loadtest::format_live(t) << std::endl;
  };
  srv::loadtest::RunResult result = srv::loadtest::run_load(load, *workload, tick, &g_stop);
  result.protocol = work.protocol;
  if (json) {
    std::cerr << srv::loadtest::format_summary(result);
    std::cout << srv::loadtest::to_json(result).dump(2) << std::endl;
  } else {
    std::cout << srv::loadtest::format_summary(result);
  }
  return result.errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "srv-loadtest: load a server (echo, http, resp, or a request template) and "
      "verify every reply; `compare` runs srv under each strategy side by side"};
  LoadOptions load;
  WorkloadOptions work;
  work.protocol = "echo";  // what plain `srv` serves on 127.0.0.1:7000, the default target
  std::string target = "127.0.0.1:7000", duration = "10s", warmup = "1s", ramp = "0s",
              timeout = "10s", mix;
  bool json = false, quiet = false;
  app.add_option("--target", target, "HOST:PORT to load")->capture_default_str();
  app.add_option("-P,--protocol", work.protocol, "echo, http, resp or template")
      ->capture_default_str();
  app.add_option("-c,--connections", load.connections, "connections")->capture_default_str();
  app.add_option("--pipeline", load.pipeline, "requests in flight per connection")
      ->capture_default_str();
  app.add_option("-t,--threads", load.threads, "load threads (one event loop each)")
      ->capture_default_str();
  app.add_option(
         "-R,--rate", load.rate,
         "open loop: total requests/s, latency from the intended send time; 0 = closed loop")
      ->capture_default_str();
  app.add_option("-d,--duration", duration, "measured time (5, 5s, 500ms, 2m)")
      ->capture_default_str();
  app.add_option("--warmup", warmup, "time after the ramp whose replies are not counted")
      ->capture_default_str();
  app.add_option("--ramp", ramp, "open the connections over this long")->capture_default_str();
  app.add_option("--timeout", timeout, "a reply missing this long is an error")
      ->capture_default_str();
  app.add_option("--requests-per-connection", load.requests_per_connection,
                 "close and reopen a connection after this many replies; 0 = keep it open")
      ->capture_default_str();
  app.add_option("--size", work.size,
                 "payload bytes: echo message (default 64), http POST /echo body (default 0: "
                 "GET --path), resp SET value (default 3)");
  app.add_option("--path", work.http_path, "http: GET target when --size is 0")
      ->capture_default_str();
  app.add_option("--mix", mix, "resp: command weights, e.g. ping:1,set:1,get:1 (the default)");
  app.add_option("--keys", work.keys, "resp: key space (key:000000000000 ...)")
      ->capture_default_str();
  app.add_option("--request", work.request_template, "template: request bytes (\\r \\n \\xHH)");
  app.add_option("--expect", work.expected_reply, "template: the exact reply to each request");
  auto* tls = app.add_flag("--tls", load.tls.enabled, "TLS on every connection");
  app.add_option("--tls-ca", load.tls.ca_file,
                 "verify the server's certificate against this CA (PEM); without it, no check")
      ->needs(tls);
  app.add_option("--tls-sni", load.tls.sni,
                 "server name to send and verify (default: the target host, if a name)")
      ->needs(tls);
  app.add_flag("--tls-resume", load.tls.resume,
               "each new connection resumes the session of its thread's previous one")
      ->needs(tls);
  app.add_flag("--json", json, "print the result as JSON on stdout (the summary goes to stderr)");
  app.add_flag("-q,--quiet", quiet, "no live line");

  CompareOptions cmp;
  std::string cmp_duration = "5s", cmp_warmup = "1s", cmp_ramp;
  auto* compare = app.add_subcommand("compare", "run srv under each strategy and write a report");
  compare->add_option("--srv", cmp.srv, "the srv binary (default: beside srv-loadtest)");
  compare->add_option("-o,--out", cmp.out, "report folder")->required();
  compare->add_option("--strategies", cmp.strategies, "default: all")->delimiter(',');
  compare->add_option("-P,--protocol", cmp.protocol, "protocol of the scenario")
      ->capture_default_str();
  compare->add_option("-c,--connections", cmp.connections, "connection counts")
      ->delimiter(',')
      ->capture_default_str();
  compare->add_option("--pipeline", cmp.pipelines, "pipeline depths")
      ->delimiter(',')
      ->capture_default_str();
  compare->add_option("--size", cmp.sizes, "payload sizes (-1: protocol default)")->delimiter(',');
  compare->add_option("--mix", cmp.mix, "resp command mix");
  compare->add_option("--requests-per-connection", cmp.requests_per_connection,
                      "close and reopen after this many replies; 0 = keep-alive");
  compare->add_option("-t,--threads", cmp.threads, "load threads")->capture_default_str();
  compare->add_option("-d,--duration", cmp_duration, "measured time per point")
      ->capture_default_str();
  compare->add_option("--warmup", cmp_warmup, "warm-up per point")->capture_default_str();
  compare->add_option("--ramp", cmp_ramp,
                      "ramp per point (default: 0.2s per 1000 connections, max 2s)");
  compare->add_option("--srv-arg", cmp.srv_args, "one more argument for every srv (repeatable)");
  bool cmp_tls = false;
  compare->add_flag("--tls", cmp_tls,
                    "srv listens with TLS (a throwaway certificate), the load speaks it; "
                    "the same as --tls-modes keepalive");
  compare
      ->add_option("--tls-modes", cmp.tls_modes,
                   "a report dimension: plain (no TLS), keepalive, full (a new connection "
                   "and full handshake per request), resumed (the same, resuming sessions)")
      ->delimiter(',');

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (compare->parsed()) {
      if (cmp.srv.empty()) {
        cmp.srv = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "srv").string();
      }
      if (cmp_tls && cmp.tls_modes.empty()) cmp.tls_modes = {"keepalive"};
      cmp.duration = parse_seconds(cmp_duration, "--duration");
      cmp.warmup = parse_seconds(cmp_warmup, "--warmup");
      if (!cmp_ramp.empty()) cmp.ramp = parse_seconds(cmp_ramp, "--ramp");
      std::string command;
      for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
      return srv::loadtest::run_compare(cmp, command);
    }
    parse_target(target, load);
    load.duration = parse_seconds(duration, "--duration");
    load.warmup = parse_seconds(warmup, "--warmup");
    load.ramp = parse_seconds(ramp, "--ramp");
    load.reply_timeout = parse_seconds(timeout, "--timeout");
    return run(load, work, mix, json, !quiet && isatty(STDERR_FILENO));
  } catch (const std::invalid_argument& e) {
    std::cerr << "srv-loadtest: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "srv-loadtest: " << e.what() << "\n";
    return 1;
  }
}
