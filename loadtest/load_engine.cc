// Starts the load threads, takes their latencies once a second (for the live line and the
// total), and turns what they counted into a RunResult.
#include "loadtest/load_engine.h"

#include <netdb.h>
#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "loadtest/load_thread.h"

namespace srv::loadtest {
namespace {

constexpr int kSpareDescriptors = 64;  // stdio, epoll fds, /proc reads of compare

Endpoint resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    throw std::invalid_argument(fmt::format("--target: {}: {}", host, gai_strerror(rc)));
  }
  Endpoint endpoint;
  std::memcpy(&endpoint.address, found->ai_addr, found->ai_addrlen);
  endpoint.length = found->ai_addrlen;
  freeaddrinfo(found);
  return endpoint;
}

}  // namespace

void reserve_descriptors(int connections) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const auto needed = static_cast<rlim_t>(connections + kSpareDescriptors);
  if (limit.rlim_cur < needed && limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = std::min<rlim_t>(limit.rlim_max, std::max<rlim_t>(needed, 1 << 20));
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur < needed) {
    throw std::invalid_argument(fmt::format(
        "--connections {} needs {} descriptors; the limit is {} (raise it with ulimit -n)",
        connections, needed, limit.rlim_cur));
  }
}

namespace {

void validate(const LoadOptions& o) {
  if (o.connections < 1 || o.connections > 1'000'000) {
    throw std::invalid_argument("--connections: 1..1000000");
  }
  if (o.threads < 1 || o.threads > 256) throw std::invalid_argument("--threads: 1..256");
  if (o.threads > o.connections) {
    throw std::invalid_argument("--threads: no more threads than connections");
  }
  if (o.pipeline < 1 || o.pipeline > 4096) throw std::invalid_argument("--pipeline: 1..4096");
  if (!(o.rate >= 0) || o.rate > 1e6 * o.connections) {
    throw std::invalid_argument(
        "--rate: requests per second, 0 = closed loop, at most 1000000 per connection");
  }
  if (!o.tls.enabled && (!o.tls.ca_file.empty() || !o.tls.sni.empty() || o.tls.resume)) {
    throw std::invalid_argument("--tls-ca, --tls-sni and --tls-resume need --tls");
  }
  if (o.requests_per_connection < 0) {
    throw std::invalid_argument("--requests-per-connection: 0 (keep-alive) or more");
  }
  constexpr double kDay = 86400;  // longer would overflow nothing, but is surely a mistake
  if (!(o.duration > 0 && o.duration <= kDay)) throw std::invalid_argument("--duration: 0..1 day");
  if (!(o.warmup >= 0 && o.warmup <= kDay) || !(o.ramp >= 0 && o.ramp <= kDay)) {
    throw std::invalid_argument("--warmup/--ramp: 0..1 day");
  }
  if (!(o.reply_timeout > 0 && o.reply_timeout <= kDay)) {
    throw std::invalid_argument("--timeout: 0..1 day");
  }
}

// Takes each thread's latencies of the last second; they go on measuring into a fresh one.
Histogram take_interval(std::vector<std::unique_ptr<LoadThread>>& threads) {
  Histogram merged, fresh;
  for (auto& t : threads) {
    {
      std::lock_guard lock(t->stats().mutex);
      std::swap(t->stats().interval, fresh);
    }
    merged.merge(fresh);
    fresh.clear();
  }
  return merged;
}

}  // namespace

RunResult run_load(const LoadOptions& options, const Workload& workload,
                   const std::function<void(const LiveTick&)>& on_tick,
                   const std::atomic<bool>* stop, Histogram* latencies) {
  validate(options);
  reserve_descriptors(options.connections);
  const Endpoint endpoint = resolve(options.host, options.port);
  std::unique_ptr<TlsContext> tls;
  if (options.tls.enabled) tls = std::make_unique<TlsContext>(options.tls, options.host);

  Schedule schedule;
  schedule.start = now_ns() + kSecond / 100;  // every thread built before the first connect
  schedule.measure_start =
      schedule.start + static_cast<std::int64_t>((options.ramp + options.warmup) * kSecond);
  schedule.end = schedule.measure_start + static_cast<std::int64_t>(options.duration * kSecond);

  std::vector<std::unique_ptr<LoadThread>> threads;
  for (int t = 0; t < options.threads; ++t) {
    threads.push_back(std::make_unique<LoadThread>(options, endpoint, workload, tls.get(), schedule,
                                                   t, options.threads, stop));
  }
  std::vector<std::jthread> running;
  for (auto& t : threads) running.emplace_back([&thread = *t] { thread.run(); });

  Histogram total;
  std::uint64_t last_requests = 0;
  for (std::int64_t tick = schedule.start + kSecond;; tick += kSecond) {
    const std::int64_t wake = std::min(tick, schedule.end);
    while (now_ns() < wake && !(stop && stop->load())) {
      std::this_thread::sleep_for(
          std::chrono::nanoseconds(std::min<std::int64_t>(wake - now_ns(), kSecond / 20)));
    }
    if (now_ns() >= schedule.end || (stop && stop->load())) break;
    Histogram second = take_interval(threads);
    LiveTick live;
    std::uint64_t requests = 0;
    for (auto& t : threads) {
      requests += t->stats().replies.load(std::memory_order_relaxed);
      live.errors += t->stats().errors.load(std::memory_order_relaxed);
      live.open_connections += t->stats().open.load(std::memory_order_relaxed);
    }
    live.elapsed = static_cast<double>(tick - schedule.start) / kSecond;
    live.measuring = tick > schedule.measure_start;
    live.rps = static_cast<double>(requests - last_requests);
    live.p99_us = static_cast<double>(second.percentile(99)) / 1e3;
    last_requests = requests;
    total.merge(second);
    if (on_tick) on_tick(live);
  }
  running.clear();  // joins
  for (auto& t : threads) {
    if (t->failure()) std::rethrow_exception(t->failure());
  }
  const std::int64_t stopped = std::min(now_ns(), schedule.end);
  total.merge(take_interval(threads));

  RunResult result;
  result.target = fmt::format("{}:{}", options.host, options.port);
  result.connections = options.connections;
  result.pipeline = options.pipeline;
  result.threads = options.threads;
  result.rate = options.rate;
  result.size = workload.size();
  result.mix = workload.mix();
  result.requests_per_connection = options.requests_per_connection;
  result.tls = options.tls.enabled;
  result.tls_resume = options.tls.resume;
  result.seconds = std::max(0.0, static_cast<double>(stopped - schedule.measure_start) / kSecond);
  for (auto& t : threads) {
    ThreadStats& s = t->stats();
    result.requests += s.requests.load();
    result.errors += s.errors.load();
    result.bytes_sent += s.bytes_sent.load();
    result.bytes_received += s.bytes_received.load();
    result.handshakes += s.handshakes.load();
    result.resumed += s.resumed.load();
    if (result.tls_negotiated.empty()) result.tls_negotiated = s.tls;
    for (const auto& [kind, n] : s.error_kinds) result.error_kinds[kind] += n;
    for (const auto& [kind, message] : s.first_error) result.first_errors.emplace(kind, message);
  }
  result.rps = result.seconds > 0 ? static_cast<double>(result.requests) / result.seconds : 0;
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  result.latency = {total.count(),
                    total.mean() / 1e3,
                    us(total.percentile(50)),
                    us(total.percentile(90)),
                    us(total.percentile(99)),
                    us(total.percentile(99.9)),
                    us(total.percentile(99.99)),
                    us(total.max())};
  if (latencies) latencies->merge(total);
  return result;
}

}  // namespace srv::loadtest
