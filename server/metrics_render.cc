#include "server/metrics_render.h"

#include <initializer_list>
#include <iterator>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace srv {
namespace {

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

// Appends families and samples to one string; a family's samples follow its HELP and TYPE.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  template <typename Value>
  void sample(std::string_view name, Labels labels, Value value, Label extra = {}) {
    out_ += name;
    const char* separator = "{";
    for (const Label& label : labels) add_label(label, separator);
    if (!extra.first.empty()) add_label(extra, separator);
    if (*separator == ',') out_ += '}';
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }
  std::string take() { return std::move(out_); }

 private:
  void add_label(const Label& label, const char*& separator) {
    fmt::format_to(std::back_inserter(out_), "{}{}=\"{}\"", separator, label.first,
                   escape_label_value(label.second));
    separator = ",";
  }
  std::string out_;
};

template <typename Enum, std::size_t N, typename Name>
void per_kind(Exposition& e, std::string_view metric, Labels labels, std::string_view label,
              const std::array<std::uint64_t, N>& values, Name name, bool skip_zero = false) {
  for (std::size_t i = 0; i < N; ++i) {
    if (skip_zero && values[i] == 0) continue;
    e.sample(metric, labels, values[i], {label, name(static_cast<Enum>(i))});
  }
}

// A family with one sample per listener, its value read by `value`.
template <typename Value>
void per_listener(Exposition& e, std::string_view name, std::string_view type,
                  std::string_view help, const std::vector<ListenerFigures>& listeners,
                  Value value) {
  e.family(name, type, help);
  for (const auto& l : listeners) e.sample(name, {{"listener", l.address}}, value(l));
}

void render_connections(Exposition& e, const std::vector<ListenerFigures>& listeners) {
  per_listener(e, "srv_connections_accepted_total", "counter", "Connections accepted and served.",
               listeners, [](const ListenerFigures& l) { return l.accepted; });
  e.family("srv_connections_refused_total", "counter", "Connections refused at a cap, by reason.");
  for (const auto& l : listeners) {
    per_kind<RefuseReason>(e, "srv_connections_refused_total", {{"listener", l.address}}, "reason",
                           l.refused, refuse_reason_name);
  }
  per_listener(e, "srv_connections_active", "gauge", "Connections open now.", listeners,
               [](const ListenerFigures& l) { return l.active; });
  e.family("srv_connections_timed_out_total", "counter",
           "Connections closed by a timeout, by kind.");
  for (const auto& l : listeners) {
    per_kind<TimeoutKind>(e, "srv_connections_timed_out_total", {{"listener", l.address}}, "kind",
                          l.timed_out, timeout_kind_name);
  }
  per_listener(e, "srv_connections_output_limited_total", "counter",
               "Connections cut for holding more unsent output than limits.max_output_bytes.",
               listeners, [](const ListenerFigures& l) { return l.output_limited; });
  per_listener(e, "srv_bytes_received_total", "counter", "Bytes read from clients.", listeners,
               [](const ListenerFigures& l) { return l.bytes_received; });
  per_listener(e, "srv_bytes_sent_total", "counter", "Bytes written to clients.", listeners,
               [](const ListenerFigures& l) { return l.bytes_sent; });
}

std::uint64_t requests_of(const ListenerFigures& l) {
  std::uint64_t total = 0;
  for (std::uint64_t n : l.durations) total += n;
  return total;
}

void render_requests(Exposition& e, const std::vector<ListenerFigures>& listeners) {
  e.family("srv_requests_total", "counter", "Requests answered (HTTP requests, RESP commands).");
  for (const auto& l : listeners) {
    e.sample("srv_requests_total", {{"listener", l.address}, {"protocol", l.protocol}},
             requests_of(l));
  }
  e.family("srv_request_errors_total", "counter", "Requests answered with an error, by kind.");
  for (const auto& l : listeners) {
    per_kind<RequestError>(e, "srv_request_errors_total",
                           {{"listener", l.address}, {"protocol", l.protocol}}, "kind", l.errors,
                           request_error_name, true);
  }
  constexpr std::string_view kName = "srv_request_duration_seconds";
  e.family(kName, "histogram",
           "Time from a request's first byte to its answer (pipelined: from the answer before).");
  for (const auto& l : listeners) {
    Labels labels = {{"listener", l.address}, {"protocol", l.protocol}};
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < l.durations.size(); ++i) {
      cumulative += l.durations[i];
      std::string le =
          i < kDurationBuckets.size() ? fmt::format("{}", kDurationBuckets[i]) : "+Inf";
      e.sample("srv_request_duration_seconds_bucket", labels, cumulative, {"le", le});
    }
    e.sample("srv_request_duration_seconds_sum", labels,
             static_cast<double>(l.duration_sum_ns) / 1e9);
    e.sample("srv_request_duration_seconds_count", labels, cumulative);
  }
}

void render_server(Exposition& e, const MetricsSnapshot& m, const StatusInfo& status,
                   const ProcessGroupFigures& processes) {
  e.family("srv_build_info", "gauge", "Always 1: the version and the strategy serving now.");
  e.sample("srv_build_info", {{"version", status.version}, {"strategy", status.strategy}}, 1);
  e.family("srv_start_time_seconds", "gauge", "When the server started, in seconds since 1970.");
  e.sample(
      "srv_start_time_seconds", {},
      std::chrono::duration_cast<std::chrono::seconds>(status.started.time_since_epoch()).count());
  e.family("srv_reloads_total", "counter", "Configuration reloads, by result.");
  e.sample("srv_reloads_total", {{"result", "applied"}}, m.reloads_ok);
  e.sample("srv_reloads_total", {{"result", "refused"}}, m.reloads_failed);
  e.family("srv_worker_restarts_total", "counter", "Serving processes restarted after dying.");
  e.sample("srv_worker_restarts_total", {}, m.worker_restarts);
  e.family("srv_processes", "gauge", "Processes of the server.");
  e.sample("srv_processes", {}, processes.processes.size());
  e.family("srv_threads", "gauge", "Threads of all the server's processes.");
  e.sample("srv_threads", {}, processes.threads);
  e.family("srv_resident_memory_bytes", "gauge",
           "Resident memory summed over the server's processes (shared pages once per process).");
  e.sample("srv_resident_memory_bytes", {}, processes.resident_bytes);
}

void render_tls(Exposition& e, const MetricsSnapshot& m) {
  auto value = [&](Counter c) { return m.counters[static_cast<std::size_t>(c)]; };
  e.family("srv_tls_handshakes_total", "counter", "Completed TLS handshakes.");
  e.sample("srv_tls_handshakes_total", {}, value(Counter::kTlsHandshakes));
  e.family("srv_tls_sessions_resumed_total", "counter", "TLS handshakes that resumed a session.");
  e.sample("srv_tls_sessions_resumed_total", {}, value(Counter::kTlsResumed));
  e.family("srv_tls_handshake_failures_total", "counter", "Failed TLS handshakes, by reason.");
  for (Counter c = Counter::kTlsFailedVersion; c <= Counter::kTlsFailedOther;
       c = static_cast<Counter>(static_cast<int>(c) + 1)) {
    std::string_view reason = counter_name(c).substr(std::string_view("tls_failed_").size());
    e.sample("srv_tls_handshake_failures_total", {{"reason", reason}}, value(c));
  }
  e.family("srv_resp_cross_protocol_total", "counter",
           "RESP connections closed for sending an HTTP request.");
  e.sample("srv_resp_cross_protocol_total", {}, value(Counter::kRespCrossProtocol));
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_prometheus(const MetricsSnapshot& metrics, const StatusInfo& status,
                              const ProcessGroupFigures& processes) {
  Exposition e;
  render_server(e, metrics, status, processes);
  render_connections(e, metrics.listeners);
  render_requests(e, metrics.listeners);
  render_tls(e, metrics);
  return e.take();
}

std::string render_status_json(const StatusInfo& status, const ProcessGroupFigures& processes,
                               std::chrono::system_clock::time_point now) {
  using nlohmann::json;
  json listeners = json::array();
  for (const auto& l : status.listeners) {
    listeners.push_back(
        {{"address", l.address}, {"protocol", l.protocol}, {"transport", l.transport}});
  }
  json each = json::array();
  for (const auto& p : processes.processes) {
    each.push_back({{"pid", p.pid},
                    {"parent", p.parent},
                    {"threads", p.threads},
                    {"resident_bytes", p.resident_bytes}});
  }
  double uptime = std::chrono::duration<double>(now - status.started).count();
  json out = {
      {"version", status.version},
      {"pid", status.pid},
      {"uptime_seconds", uptime < 0 ? 0.0 : uptime},
      {"config_file", status.config_file},
      {"generation", status.generation},
      {"strategy", status.strategy},
      {"draining", status.draining},
      {"listeners", listeners},
      {"processes", each},
      {"threads", processes.threads},
      {"resident_bytes", processes.resident_bytes},
  };
  // Replaces invalid UTF-8 (a config file name is any bytes) instead of throwing.
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace srv
