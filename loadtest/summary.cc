#include "loadtest/summary.h"

#include <fmt/format.h>

namespace srv::loadtest {

std::string format_latency(double us) {
  if (us < 1000) return fmt::format("{:.1f}us", us);
  if (us < 1e6) return fmt::format("{:.2f}ms", us / 1e3);
  return fmt::format("{:.2f}s", us / 1e6);
}

std::string format_live(const LiveTick& tick) {
  return fmt::format("[{:>4.0f}s] {:>10.0f} req/s  p99 {:>9}  errors {}  connections {}{}",
                     tick.elapsed, tick.rps,
                     tick.measuring ? format_latency(tick.p99_us) : std::string("-"), tick.errors,
                     tick.open_connections, tick.measuring ? "" : "  (warm-up)");
}

std::string format_summary(const RunResult& run) {
  std::string out =
      fmt::format("{} on {}: {} connections, pipeline {}, {} thread(s), {}, {} bytes{}\n",
                  run.protocol, run.target, run.connections, run.pipeline, run.threads,
                  run.rate > 0 ? fmt::format("open loop at {:.0f} req/s", run.rate)
                               : std::string("closed loop"),
                  run.size, run.mix.empty() ? "" : ", mix " + run.mix);
  out += fmt::format("  {} requests in {:.2f}s, {:.2f} MB read, {:.2f} MB written\n", run.requests,
                     run.seconds, static_cast<double>(run.bytes_received) / 1e6,
                     static_cast<double>(run.bytes_sent) / 1e6);
  out += fmt::format("  Requests/sec: {:.2f}\n", run.rps);
  const LatencySummary& l = run.latency;
  out +=
      fmt::format("  Latency{}: mean {}  p50 {}  p90 {}  p99 {}  p99.9 {}  p99.99 {}  max {}\n",
                  run.rate > 0 ? " (from the intended send time)" : "", format_latency(l.mean_us),
                  format_latency(l.p50_us), format_latency(l.p90_us), format_latency(l.p99_us),
                  format_latency(l.p999_us), format_latency(l.p9999_us), format_latency(l.max_us));
  if (run.tls) {
    out += fmt::format("  TLS{}: {} handshakes ({:.2f}/s), {} resumed{}\n",
                       run.tls_negotiated.empty() ? "" : " " + run.tls_negotiated, run.handshakes,
                       run.seconds > 0 ? static_cast<double>(run.handshakes) / run.seconds : 0.0,
                       run.resumed, run.tls_resume ? "" : " (--tls-resume is off)");
  }
  out += fmt::format("  Errors: {}\n", run.errors);
  for (const auto& [kind, n] : run.error_kinds) {
    const auto first = run.first_errors.find(kind);
    out += fmt::format("    {}: {} (first: {})\n", kind, n,
                       first == run.first_errors.end() ? "" : first->second);
  }
  return out;
}

}  // namespace srv::loadtest
