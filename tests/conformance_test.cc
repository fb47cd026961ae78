// Conformance suite: every registered strategy x every registered protocol x {tcp, tls}, run
// against the real srv binary over real sockets. The instances are built from the registries at
// run time, so a newly registered strategy is covered with no edit here; a newly registered
// protocol needs a test-side model (see find_model), and its tests fail until it has one. Each
// test is written once against srv::test::Client, which is a plain socket or a TLS client.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "protocols/registry.h"
#include "strategies/strategy.h"
#include "tests/test_server.h"
#include "tests/test_tls.h"

namespace {

using namespace std::chrono_literals;
using srv::test::Client;
using srv::test::Clock;
using srv::test::connect_to;
using srv::test::count_live_children;
using srv::test::count_threads;
using srv::test::count_zombie_children;
using srv::test::expect_closed_by_peer;
using srv::test::first_difference;
using srv::test::kIoTimeout;
using srv::test::PeerActivity;
using srv::test::poll_until;
using srv::test::ProcInfo;
using srv::test::ServerOptions;
using srv::test::TestServer;
using srv::test::transact;
using srv::test::watch_peer;
using srv::test::Wire;
using std::chrono::milliseconds;

// ---- Test-side protocol models ---------------------------------------------------------------

/// A request and the exact bytes the server must answer to it.
struct Exchange {
  std::string request;
  std::string reply;
};

/// What the tests know about a protocol, written independently of the server's implementation.
class ProtocolModel {
 public:
  virtual ~ProtocolModel() = default;

  /// A request of about `size` bytes (random content wherever the protocol allows it) and its
  /// reply. Requests of consecutive exchanges may be sent back to back on one connection.
  virtual Exchange make_exchange(std::mt19937_64& rng, std::size_t size) const = 0;

  /// A small exchange that only a served connection answers. Its reply never begins like
  /// refusal(), so a probe tells "served" from "refused" apart.
  virtual Exchange probe() const = 0;

  /// The bytes a connection refused at capacity receives before the server closes it.
  virtual std::string_view refusal() const = 0;

  /// Replaces the parts of received bytes that legitimately vary (an HTTP Date) with what
  /// make_exchange() put in the expected reply, so replies compare byte for byte.
  virtual std::string normalize(std::string received) const { return received; }

  /// True for a protocol that ends keep-alive connections at a request boundary once the
  /// server drains (HTTP answers with Connection: close), so clients move to a new generation.
  virtual bool closes_when_draining() const { return false; }
  /// An exchange while the server drains: for such a protocol the last of its connection.
  virtual Exchange draining_exchange(std::mt19937_64& rng, std::size_t size) const {
    return make_exchange(rng, size);
  }

  /// False for a protocol with no requests to be under way (echo answers each byte).
  virtual bool has_requests() const { return true; }
  /// How the answer to a request cut by read_timeout begins (HTTP's 408); empty: none.
  virtual std::string_view read_timeout_answer() const { return {}; }

  /// Exchanges that prepare (`setup`), then one request whose single reply is at least `size`
  /// bytes; none (empty request) for a protocol whose output follows what it reads, so that
  /// backpressure alone bounds it (echo, http's echo).
  struct BigReply {
    Exchange setup;
    std::string request;
  };
  virtual BigReply big_reply(std::mt19937_64& /*rng*/, std::size_t /*size*/) const { return {}; }
};

std::string random_bytes(std::mt19937_64& rng, std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; i += sizeof(std::uint64_t)) {
    std::uint64_t word = rng();
    std::memcpy(bytes.data() + i, &word, std::min(sizeof word, size - i));
  }
  return bytes;
}

/// echo: every byte (NUL included) comes back unchanged; a refused connection gets nothing.
class EchoModel final : public ProtocolModel {
 public:
  Exchange make_exchange(std::mt19937_64& rng, std::size_t size) const override {
    std::string bytes = random_bytes(rng, size);
    return {bytes, bytes};
  }
  Exchange probe() const override {
    std::string bytes("probe\0\r\n", 8);
    return {bytes, bytes};
  }
  std::string_view refusal() const override { return {}; }
  bool has_requests() const override { return false; }
};

/// http: POST /echo returns the body; every response carries a 29-byte Date, masked before
/// comparing. Bodies stay well under the default max_body_bytes (1 MiB).
class HttpModel final : public ProtocolModel {
 public:
  static constexpr std::string_view kDate = "Thu, 01 Jan 1970 00:00:00 GMT";

  Exchange make_exchange(std::mt19937_64& rng, std::size_t size) const override {
    std::string body = random_bytes(rng, std::min<std::size_t>(size, 512 * 1024));
    return {
        fmt::format("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.size()) +
            body,
        fmt::format("HTTP/1.1 200 OK\r\nServer: srv\r\nDate: {}\r\nContent-Type: "
                    "application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                    kDate, body.size()) +
            body};
  }
  Exchange probe() const override {
    return {"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            fmt::format("HTTP/1.1 200 OK\r\nServer: srv\r\nDate: {}\r\nContent-Type: "
                        "text/plain\r\nContent-Length: 3\r\n\r\nok\n",
                        kDate)};
  }
  std::string_view refusal() const override {
    return "HTTP/1.1 503 Service Unavailable\r\nServer: srv\r\nContent-Type: "
           "text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\nService "
           "Unavailable\n";
  }
  std::string_view read_timeout_answer() const override { return "HTTP/1.1 408 "; }
  bool closes_when_draining() const override { return true; }
  Exchange draining_exchange(std::mt19937_64& rng, std::size_t size) const override {
    Exchange ex = make_exchange(rng, size);
    ex.reply.insert(ex.reply.find("\r\n\r\n") + 2, "Connection: close\r\n");
    return ex;
  }
  std::string normalize(std::string received) const override {
    // Only at the start of a line of a response head; a body may contain the same bytes, but
    // the model's bodies are random, so a false match is vanishingly unlikely and harmless.
    for (std::size_t at = received.find("\r\nDate: "); at != std::string::npos;
         at = received.find("\r\nDate: ", at + 1)) {
      std::size_t value = at + 8;
      if (value + kDate.size() <= received.size()) received.replace(value, kDate.size(), kDate);
    }
    return received;
  }
};

/// The example plugin protocols/examples/shout: every line comes back upper-cased.
class ShoutModel final : public ProtocolModel {
 public:
  Exchange make_exchange(std::mt19937_64& rng, std::size_t size) const override {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789 .,";
    Exchange ex;
    for (std::size_t left = std::max<std::size_t>(size, 1); left > 0;) {
      std::size_t line = std::min<std::size_t>(left, 1 + rng() % 1000);  // max_line is 4096
      left -= line;
      std::string text(line - 1, ' ');
      for (char& c : text) c = kAlphabet[rng() % kAlphabet.size()];
      ex.request += text + "\n";
      for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      ex.reply += text + "\n";
    }
    return ex;
  }
  Exchange probe() const override { return {"probe\n", "PROBE\n"}; }
  std::string_view refusal() const override { return {}; }
};

/// The protocol a plugin path serves, named as its library: ".../libshout.so" -> "shout".
std::string plugin_name(std::string_view path) {
  std::string_view file = path.substr(path.rfind('/') + 1);
  if (file.starts_with("lib")) file.remove_prefix(3);
  return std::string(file.substr(0, file.find('.')));
}

/// resp: SET a fresh random key, GET it back, DEL it (so the shared keyspace does not fill up).
class RespModel final : public ProtocolModel {
 public:
  Exchange make_exchange(std::mt19937_64& rng, std::size_t size) const override {
    std::string key = fmt::format("conformance:{:016x}{:016x}", rng(), rng());
    // Values stay under the default max_bulk_length (512 KiB).
    std::string value = random_bytes(rng, std::min<std::size_t>(size, 400 * 1024));
    return {command({"SET", key, value}) + command({"GET", key}) + command({"DEL", key}),
            fmt::format("+OK\r\n${}\r\n", value.size()) + value + "\r\n:1\r\n"};
  }
  Exchange probe() const override { return {command({"PING"}), "+PONG\r\n"}; }
  std::string_view refusal() const override { return "-ERR max number of clients reached\r\n"; }
  /// A list of 256 KiB values (RPUSHed three at a time, under max_input_buffer), then LRANGE.
  BigReply big_reply(std::mt19937_64& rng, std::size_t size) const override {
    std::string key = fmt::format("conformance:big:{:016x}", rng());
    std::string value = random_bytes(rng, 256 * 1024);
    BigReply big;
    for (std::size_t length = 0; length * value.size() < size;) {
      big.setup.request += command({"RPUSH", key, value, value, value});
      length += 3;
      big.setup.reply += fmt::format(":{}\r\n", length);
    }
    big.request = command({"LRANGE", key, "0", "-1"});
    return big;
  }

 private:
  static std::string command(std::initializer_list<std::string_view> args) {
    std::string out = fmt::format("*{}\r\n", args.size());
    for (std::string_view arg : args) out += fmt::format("${}\r\n{}\r\n", arg.size(), arg);
    return out;
  }
};

/// The test plugin tests/plugin/wait_poke.cc (the wake-up tests): PING answers PONG.
class WaitPokeModel final : public ProtocolModel {
 public:
  Exchange make_exchange(std::mt19937_64& rng, std::size_t size) const override {
    Exchange ex;
    for (std::size_t i = 0; i < 1 + (size + rng() % 2) / 5; ++i) {
      ex.request += "PING\n";
      ex.reply += "PONG\n";
    }
    return ex;
  }
  Exchange probe() const override { return {"PING\n", "PONG\n"}; }
  std::string_view refusal() const override { return {}; }
};

/// The model for `protocol`, or nullptr if the tests have none yet.
const ProtocolModel* find_model(std::string_view protocol) {
  static const ShoutModel kShout;
  static const WaitPokeModel kWaitPoke;
  if (protocol.ends_with(".so")) {
    if (plugin_name(protocol) == "waitpoke") return &kWaitPoke;
    return plugin_name(protocol) == "shout" ? &kShout : nullptr;
  }
  static const EchoModel kEcho;
  static const HttpModel kHttp;
  static const RespModel kResp;
  if (protocol == "resp") return &kResp;
  if (protocol == "echo") return &kEcho;
  if (protocol == "http") return &kHttp;
  return nullptr;
}

// ---- Parameters ------------------------------------------------------------------------------

struct Case {
  std::string strategy;
  std::string protocol;
  srv::Overflow overflow;
  bool forks = false;  ///< connections are served in child processes
  Wire wire = Wire::kTcp;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.strategy << " x " << c.protocol << " over " << srv::test::to_string(c.wire)
      << (c.overflow == srv::Overflow::kQueue ? " (queues)" : " (refuses)");
}

std::vector<Case> all_cases() {
  // Protocols built in, plus plugins named (colon-separated .so paths) in SRV_TEST_PLUGINS:
  // the out-of-tree plugin test builds protocols/examples/shout and runs this suite on it.
  std::vector<std::string> protocols;
  for (const srv::ProtocolInfo& protocol : srv::protocol_registry()) {
    protocols.emplace_back(protocol.name);
  }
  if (const char* plugins = std::getenv("SRV_TEST_PLUGINS")) {
    std::string_view list = plugins;
    while (!list.empty()) {
      std::string_view path = list.substr(0, list.find(':'));
      if (!path.empty()) protocols.emplace_back(path);
      list.remove_prefix(std::min(list.size(), path.size() + 1));
    }
  }
  std::vector<Case> cases;
  for (Wire wire : {Wire::kTcp, Wire::kTls}) {
    for (const srv::StrategyInfo& strategy : srv::strategy_registry()) {
      for (const std::string& protocol : protocols) {
        cases.push_back(
            {std::string(strategy.name), protocol, strategy.overflow, strategy.forks, wire});
      }
    }
  }
  return cases;
}

std::vector<Case> tls_cases() {
  std::vector<Case> cases = all_cases();
  std::erase_if(cases, [](const Case& c) { return c.wire != Wire::kTls; });
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const std::string& protocol = info.param.protocol;
  std::string name = info.param.strategy + "_" +
                     (protocol.ends_with(".so") ? "plugin_" + plugin_name(protocol) : protocol) +
                     (info.param.wire == Wire::kTls ? "_tls" : "");
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

int ms_left(Clock::time_point deadline) {
  return static_cast<int>(
      std::max<long long>(0, std::chrono::ceil<milliseconds>(deadline - Clock::now()).count()));
}

// ---- Fixture ---------------------------------------------------------------------------------

class ConformanceTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    model_ = find_model(GetParam().protocol);
    ASSERT_NE(model_, nullptr)
        << "protocol '" << GetParam().protocol
        << "' is registered but tests/conformance_test.cc has no test-side model for it; "
           "implement a ProtocolModel and return it from find_model()";
  }

  bool queues() const { return GetParam().overflow == srv::Overflow::kQueue; }
  Wire wire() const { return GetParam().wire; }
  bool tls() const { return wire() == Wire::kTls; }

  ServerOptions base_options() const {
    ServerOptions options;
    options.strategy = GetParam().strategy;
    options.protocol = GetParam().protocol;
    options.wire = wire();
    return options;
  }

  /// What a connection refused at capacity receives before the close: the protocol's refusal
  /// over TCP; nothing over TLS, where srv never sends plaintext (see refused()).
  std::string_view refusal() const { return tls() ? std::string_view() : model_->refusal(); }

  /// Whether `client` was refused at capacity, given the bytes it received: over TCP they begin
  /// like the protocol's refusal; over TLS its handshake ended in a fatal internal_error alert.
  bool refused(const Client& client, std::string_view received) const {
    if (tls()) return client.peer_alert() == "internal_error";
    std::string_view head = received.substr(0, 12);
    return !head.empty() && !model_->refusal().empty() && model_->refusal().starts_with(head);
  }

  /// Options under which exactly `capacity` connections are served at once: prefork by its
  /// worker count, every other strategy by max_connections (threadpool with as many threads, so
  /// that none of them waits in its queue).
  ServerOptions options_for_capacity(int capacity) const {
    ServerOptions options = base_options();
    if (GetParam().strategy == "prefork") {
      options.workers = capacity;
    } else {
      options.max_connections = capacity;
      if (GetParam().strategy == "threadpool") options.threads = capacity;
    }
    return options;
  }

  /// Starts srv; a fatal failure if it does not come up.
  void start_server(ServerOptions options) {
    server_ = std::make_unique<TestServer>(std::move(options));
    std::string error = server_->start();
    ASSERT_TRUE(error.empty()) << error;
  }

  /// A connected client of the case's wire; a non-fatal failure (and an invalid client) if
  /// connect fails. A TLS client's handshake happens with its first exchange.
  Client connect_client() const {
    std::string error;
    Client client = connect_to(wire(), server_->port(), 5s, &error);
    if (!client.valid()) ADD_FAILURE() << "cannot connect to srv: " << error;
    return client;
  }

  /// Runs one exchange on `client` and checks the reply byte for byte. "" or what went wrong.
  std::string exchange(Client& client, const Exchange& ex,
                       milliseconds timeout = kIoTimeout) const {
    std::string reply;
    std::string error = transact(client, ex.request, ex.reply.size(), reply, timeout);
    if (!error.empty()) return error;
    std::string diff = first_difference(ex.reply, model_->normalize(reply));
    return diff.empty() ? "" : "wrong reply: " + diff;
  }

  /// A random exchange of `size` bytes on `client`.
  std::string random_exchange(Client& client, std::mt19937_64& rng, std::size_t size) const {
    return exchange(client, model_->make_exchange(rng, size));
  }

  /// Connects and sends the probe until a connection is served, retrying connections the server
  /// refuses or closes, for up to `timeout`. On failure returns an invalid client and the last
  /// reason in `error`.
  Client connect_served(milliseconds timeout, std::string& error,
                        std::string* attempts = nullptr) const {
    auto deadline = Clock::now() + timeout;
    const auto started = Clock::now();
    const Exchange probe = model_->probe();
    for (;;) {
      std::string why;
      Client client =
          connect_to(wire(), server_->port(), milliseconds(std::max(ms_left(deadline), 100)), &why);
      if (client.valid()) {
        std::string reply;
        why = transact(client, probe.request, probe.reply.size(), reply,
                       milliseconds(std::max(ms_left(deadline), 1)));
        std::string diff = first_difference(probe.reply, model_->normalize(reply));
        if (why.empty() && diff.empty()) return client;
        // Refused: a place may not be free yet (the server learns of a close asynchronously).
        if (refused(client, reply)) {
          why = "refused: " + (tls() ? why : reply.substr(0, 40));
        } else if (why.empty()) {
          error = "wrong reply to the probe: " + diff;
          return {};
        }
      }
      if (attempts) {
        *attempts += fmt::format(
            "\n  attempt failed {} ms in: {}",
            std::chrono::duration_cast<milliseconds>(Clock::now() - started).count(), why);
      }
      if (Clock::now() >= deadline) {
        error = why;
        return {};
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  /// Opens `n` clients that are each served one exchange, appending them to `clients`.
  void open_served_clients(int n, std::mt19937_64& rng, std::vector<Client>& clients) const {
    for (int i = 0; i < n; ++i) {
      std::string error;
      clients.push_back(connect_served(5s, error));
      ASSERT_TRUE(clients.back().valid()) << "client " << i << ": " << error;
      ASSERT_EQ(random_exchange(clients.back(), rng, 1000), "") << "client " << i;
    }
  }

  /// After the server has exited: none of its `children` recorded earlier, and nothing else it
  /// forked (its process group), is still running; polled for up to 2 s.
  void expect_nothing_left_behind(const std::vector<ProcInfo>& children) const {
    std::vector<ProcInfo> left;
    poll_until(
        [&] {
          left = srv::test::live_group_members(server_->pid());
          for (const ProcInfo& child : children) {
            if (srv::test::still_alive(child) && child.pgrp != server_->pid())
              left.push_back(child);
          }
          return left.empty();
        },
        2s);
    std::string pids;
    for (const ProcInfo& process : left) pids += fmt::format(" {}({})", process.pid, process.state);
    EXPECT_TRUE(left.empty()) << "processes srv started still run after it exited:" << pids;
  }

  /// The server's live children now.
  /// The processes the generation's process started (fork's connection children, prefork's
  /// workers); srv's master runs the generation in a child of its own.
  std::vector<ProcInfo> live_children() const {
    std::vector<ProcInfo> live;
    for (const ProcInfo& child : srv::test::child_processes(server_->generation_pid())) {
      if (child.state != 'Z' && child.state != 'X') live.push_back(child);
    }
    return live;
  }

  /// Asserts that the server exited with status 0 within `timeout`.
  void expect_clean_exit(milliseconds timeout, std::string_view when) {
    auto status = server_->wait_exit(timeout);
    ASSERT_TRUE(status.has_value())
        << "srv still running " << timeout.count() << " ms after " << when;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "srv " << srv::test::describe_wait_status(*status) << ", expected exit status 0";
  }

  std::unique_ptr<TestServer> server_;
  const ProtocolModel* model_ = nullptr;
};

// ---- 1. One client ---------------------------------------------------------------------------

TEST_P(ConformanceTest, SingleClientExchangesOfVariousSizes) {
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(8)));
  std::mt19937_64 rng(1);
  Client fd = connect_client();
  ASSERT_TRUE(fd.valid());
  for (std::size_t size : {1UL, 1000UL, 100UL * 1024, 2UL, 65536UL, 100UL * 1024 + 7, 1UL}) {
    ASSERT_EQ(random_exchange(fd, rng, size), "") << "exchange of " << size << " bytes";
  }

  // Several requests back to back, then all the replies.
  Exchange batch;
  // Replies above the server's output high-water mark (256 KiB) followed by small requests:
  // the rest of the batch must be served once the big replies have gone out.
  for (std::size_t size : {10UL, 5000UL, 1UL, 70000UL, 300'000UL, 300'000UL, 10UL}) {
    Exchange one = model_->make_exchange(rng, size);
    batch.request += one.request;
    batch.reply += one.reply;
  }
  ASSERT_EQ(exchange(fd, batch), "") << "pipelined requests";
  fd.reset();

  // The server keeps serving after a client leaves.
  Client second = connect_client();
  ASSERT_TRUE(second.valid());
  EXPECT_EQ(random_exchange(second, rng, 1000), "") << "second client";
}

// ---- 2. Many concurrent clients --------------------------------------------------------------

TEST_P(ConformanceTest, ManyConcurrentClients) {
  constexpr int kClients = 200;
  constexpr std::size_t kMinBudget = 16 * 1024;
  constexpr std::size_t kMaxBudget = 1024 * 1024;
  constexpr auto kCaseBudget = 100s;

  ServerOptions options = base_options();
  options.max_connections = 256;
  if (GetParam().strategy == "prefork") options.workers = 8;
  if (GetParam().strategy == "threadpool") options.threads = 8;
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));

  const auto deadline = Clock::now() + kCaseBudget;
  const std::uint16_t port = server_->port();
  // Over TLS each byte is also encrypted and decrypted twice on the same two cores: the same
  // clients and message sizes (up to 128 KiB, many TLS records), a quarter of the bytes.
  const std::size_t max_budget = tls() ? kMaxBudget / 4 : kMaxBudget;
  std::vector<std::string> errors(kClients);
  std::atomic<std::size_t> total_bytes{0};
  auto client = [&](int index) {
    std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(index));
    std::string& error = errors[static_cast<std::size_t>(index)];
    Client fd = connect_to(wire(), port, 10s, &error);
    if (!fd.valid()) return;
    std::size_t budget = std::uniform_int_distribution<std::size_t>(kMinBudget, max_budget)(rng);
    std::size_t done = 0;
    int messages = 0;
    while (done < budget) {
      // Mostly small and medium messages, some large ones.
      std::size_t roll = rng() % 100;
      std::size_t max = roll < 50 ? 512 : roll < 85 ? 16 * 1024 : 128 * 1024;
      std::size_t size = std::min<std::size_t>(budget - done, 1 + rng() % max);
      Exchange ex = model_->make_exchange(rng, size);
      if (Clock::now() >= deadline) {
        error = fmt::format("case time budget ran out after {} messages", messages);
        return;
      }
      std::string reply;
      // Queued clients (prefork) may wait long for a worker; the case budget bounds them.
      std::string why = transact(fd, ex.request, ex.reply.size(), reply,
                                 milliseconds(std::max(ms_left(deadline), 1)));
      if (why.empty()) why = first_difference(ex.reply, model_->normalize(reply));
      if (!why.empty()) {
        error = fmt::format("message {} ({} bytes, {} of {} bytes done): {}", messages, size, done,
                            budget, why);
        return;
      }
      done += size;
      ++messages;
    }
    total_bytes += done;
  };

  auto started = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int i = 0; i < kClients; ++i) threads.emplace_back(client, i);
  for (std::thread& t : threads) t.join();
  auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);

  int failed = 0;
  std::string report;
  for (int i = 0; i < kClients; ++i) {
    const std::string& error = errors[static_cast<std::size_t>(i)];
    if (error.empty()) continue;
    if (++failed <= 5) report += fmt::format("\n  client {}: {}", i, error);
  }
  EXPECT_EQ(failed, 0) << failed << " of " << kClients << " clients failed (first ones):" << report;
  EXPECT_TRUE(server_->running()) << "srv exited during the test";
  std::cout << "[          ] " << kClients << " clients echoed " << total_bytes / 1024 << " KiB in "
            << elapsed.count() << " ms\n";
}

// ---- 3. Half-close ---------------------------------------------------------------------------

TEST_P(ConformanceTest, HalfCloseStillDeliversEveryReply) {
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(8)));
  std::mt19937_64 rng(3);

  // 300 KiB in pieces, read concurrently; SHUT_WR right after the last byte is sent, while
  // replies are still in flight.
  {
    Exchange all;
    while (all.request.size() < 300 * 1024) {
      Exchange piece = model_->make_exchange(rng, 1 + rng() % (32 * 1024));
      all.request += piece.request;
      all.reply += piece.reply;
    }
    Client fd = connect_client();
    ASSERT_TRUE(fd.valid());
    std::string reply;
    ASSERT_EQ(transact(fd, all.request, all.reply.size(), reply, kIoTimeout, true), "")
        << "300 KiB then SHUT_WR";
    ASSERT_EQ(first_difference(all.reply, model_->normalize(reply)), "");
    EXPECT_EQ(expect_closed_by_peer(fd, 5s), "")
        << "after every reply of a half-closed client, the server must close";
  }

  // A request that fits the socket buffers, SHUT_WR before reading anything.
  {
    Exchange ex = model_->make_exchange(rng, 20 * 1024);
    Client fd = connect_client();
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(srv::test::send_all(fd, ex.request), "");
    ASSERT_EQ(srv::test::shutdown_write(fd), "");
    std::string reply;
    ASSERT_EQ(srv::test::read_exactly(fd, ex.reply.size(), reply), "")
        << "reply to a request sent before SHUT_WR";
    ASSERT_EQ(first_difference(ex.reply, model_->normalize(reply)), "");
    EXPECT_EQ(expect_closed_by_peer(fd, 5s), "");
  }

  // SHUT_WR with nothing sent: the server closes.
  {
    Client fd = connect_client();
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(srv::test::shutdown_write(fd), "");
    EXPECT_EQ(expect_closed_by_peer(fd, 5s), "") << "client that half-closed at once";
  }
}

// ---- 4. Clients that vanish mid-stream -------------------------------------------------------

TEST_P(ConformanceTest, ClientsDisconnectingMidStream) {
  // Capacity 2: a connection slot (or worker) leaked by an aborted client shows up as a new
  // client that is never served.
  constexpr int kCapacity = 2;
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(kCapacity)));
  std::mt19937_64 rng(4);
  const std::string big = random_bytes(rng, 4 * 1024 * 1024);

  for (bool reset : {false, true, false, true}) {
    SCOPED_TRACE(reset ? "client aborts with RST (SO_LINGER 0)" : "client closes with unread data");
    std::string error;
    Client fd = connect_served(5s, error);
    ASSERT_TRUE(fd.valid()) << "no connection served within 5 s: " << error;
    // Send without reading until the connection takes no more: the server is then blocked on
    // writing its replies to us, and stops reading. 100 ms without progress means it is stuck.
    std::size_t sent = srv::test::send_until_stalled(fd, big, 100ms, 2s);
    EXPECT_GT(sent, 64U * 1024) << "could not even send 64 KiB before the socket filled";
    if (reset) {
      fd.abort();
    } else {
      fd.reset();
    }
  }

  ASSERT_TRUE(server_->running()) << "srv died after clients aborted";

  // Both slots must come back: two clients served at once, each doing real work.
  std::vector<Client> clients;
  for (int i = 0; i < kCapacity; ++i) {
    std::string error;
    clients.push_back(connect_served(5s, error));
    ASSERT_TRUE(clients.back().valid())
        << "client " << i << " of " << kCapacity << " was not served within 5 s after "
        << "aborted clients left (leaked slot?): " << error;
  }
  for (Client& fd : clients) EXPECT_EQ(random_exchange(fd, rng, 100 * 1024), "");
  clients.clear();

  EXPECT_TRUE(poll_until([&] { return count_zombie_children(server_->generation_pid()) == 0; }, 2s))
      << count_zombie_children(server_->generation_pid()) << " zombie children";
}

// ---- 5. SIGTERM ------------------------------------------------------------------------------

TEST_P(ConformanceTest, SigtermDrainsOpenConnectionsThenExits) {
  constexpr auto kShutdownTimeout = 10s;
  ServerOptions options = options_for_capacity(8);
  options.config_yaml = "shutdown_timeout: 10s\n";
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  std::mt19937_64 rng(5);

  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(open_served_clients(3, rng, clients));
  const std::vector<ProcInfo> children = live_children();

  const auto signalled = Clock::now();
  server_->terminate();
  // The generation's own (not a worker's) announcement: after it, nothing new may be accepted,
  // and whatever serves a connection has been told (a pending signal is taken before the next
  // request is read). Not otherwise part of the contract, so go on without it.
  server_->wait_for_log(fmt::format("[pid {}] shutting down", server_->generation_pid()), 2s);

  // Client 0 waits: it keeps the server draining until the end.
  const bool closes = model_->closes_when_draining();
  for (std::size_t i = 1; i < clients.size(); ++i) {
    EXPECT_EQ(exchange(clients[i], model_->draining_exchange(rng, 10 * 1024)), "")
        << "client " << i << " opened before SIGTERM, exchange during the drain";
    if (closes) {
      EXPECT_EQ(expect_closed_by_peer(clients[i], 2s), "")
          << "client " << i << ": the last answer of a draining keep-alive connection";
    }
  }

  // A connection made now must not be served. connect may still succeed on the backlog.
  std::string error;
  Client late = connect_to(wire(), server_->port(), 2s, &error);
  if (late.valid()) {
    (void)srv::test::send_some(late, model_->probe().request);
    std::string got;
    PeerActivity activity = watch_peer(late, 1s, got);
    EXPECT_TRUE(activity != PeerActivity::kData || refusal().starts_with(got))
        << "a connection made after SIGTERM was served: received " << got.size() << " bytes";
  }
  ASSERT_TRUE(server_->running())
      << "srv exited while connections were open, long before shutdown_timeout";
  EXPECT_EQ(exchange(clients[0], model_->draining_exchange(rng, 1000)), "") << "still draining";

  // `late` stays open: a connection the server never accepted must not delay its exit.
  clients.clear();
  ASSERT_NO_FATAL_FAILURE(expect_clean_exit(4s, "its last connection closed while draining"));
  EXPECT_LT(Clock::now() - signalled, kShutdownTimeout - 2s)
      << "exit should follow the last close, not the shutdown_timeout";
  expect_nothing_left_behind(children);
}

TEST_P(ConformanceTest, ShutdownTimeoutClosesIdleConnections) {
  ServerOptions options = options_for_capacity(8);
  options.config_yaml = "shutdown_timeout: 1s\n";
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  std::mt19937_64 rng(6);

  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(open_served_clients(3, rng, clients));
  const std::vector<ProcInfo> children = live_children();

  const auto deadline = Clock::now() + 6s;
  server_->terminate();
  for (std::size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(expect_closed_by_peer(clients[i], milliseconds(ms_left(deadline))), "")
        << "idle client " << i << " after SIGTERM with shutdown_timeout 1s";
  }
  ASSERT_NO_FATAL_FAILURE(
      expect_clean_exit(milliseconds(ms_left(deadline)), "SIGTERM (shutdown_timeout 1s) + 6 s"));
  expect_nothing_left_behind(children);
}

// idle_timeout closes a connection that has been silent that long, and only such a one: a client
// that keeps talking stays open well past it (every byte moves the deadline, in every strategy).
TEST_P(ConformanceTest, IdleTimeoutClosesOnlySilentConnections) {
  ServerOptions options = options_for_capacity(8);
  options.config_yaml = "idle_timeout: 1s\n";
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  std::mt19937_64 rng(10);
  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(open_served_clients(2, rng, clients));
  const auto opened = Clock::now();
  // Client 1 talks every 250 ms for 2.5 s; client 0 says nothing and must be closed about
  // 1 s in, while client 1 goes on.
  std::optional<milliseconds> silent_closed;
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(250ms);
    std::string data;
    if (!silent_closed && watch_peer(clients[0], 0ms, data) != PeerActivity::kSilent) {
      silent_closed = std::chrono::duration_cast<milliseconds>(Clock::now() - opened);
    }
    ASSERT_EQ(random_exchange(clients[1], rng, 100), "")
        << "the talking client, " << (i + 1) * 250 << " ms in (idle_timeout 1s)";
  }
  ASSERT_TRUE(silent_closed.has_value()) << "the silent client is still open after 2.5 s";
  EXPECT_GE(silent_closed->count(), 900) << "closed before idle_timeout";
  // Now client 1 falls silent too: closed about 1 s after its last exchange, not before.
  const auto last = Clock::now();
  std::string got;
  EXPECT_EQ(expect_closed_by_peer(clients[1], 3s, &got), "")
      << "the client that fell silent must be closed after idle_timeout";
  EXPECT_GE(Clock::now() - last, 900ms) << "closed before idle_timeout";
}

// read_timeout cuts a request whose bytes trickle in (each byte resets idle_timeout) about
// read_timeout after its first byte, with the protocol's answer (HTTP: 408), in every strategy,
// plugins included; a client talking normally meanwhile is served.
TEST_P(ConformanceTest, ATrickledRequestIsCutAtReadTimeout) {
  if (!model_->has_requests()) GTEST_SKIP() << "echo answers each byte: no request is under way";
  ServerOptions options = options_for_capacity(4);
  options.config_yaml = "read_timeout: 1s\nidle_timeout: 30s\nlimits: {min_rate: 0}\n";
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  std::mt19937_64 rng(12);
  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(open_served_clients(2, rng, clients));  // [1] talks normally
  std::string request = model_->make_exchange(rng, 200).request;
  request.pop_back();  // never complete
  const auto first_byte = Clock::now();
  std::string answer;
  for (std::size_t i = 0; i < request.size() && Clock::now() - first_byte < 4s; ++i) {
    if (!srv::test::send_some(clients[0], request.substr(i, 1)).empty()) break;  // cut
    if (watch_peer(clients[0], 100ms, answer) != PeerActivity::kSilent) break;   // the answer
    if (i % 3 == 0) {
      ASSERT_EQ(random_exchange(clients[1], rng, 100), "") << "the other client, meanwhile";
    }
  }
  std::string rest;
  EXPECT_EQ(expect_closed_by_peer(clients[0], 3s, &rest), "") << "read_timeout 1s";
  const auto cut = std::chrono::duration_cast<milliseconds>(Clock::now() - first_byte);
  answer += rest;
  EXPECT_GE(cut.count(), 900) << "cut before read_timeout";
  EXPECT_LE(cut.count(), 2500) << "cut well after read_timeout (1 s)";
  EXPECT_TRUE(answer.starts_with(model_->read_timeout_answer()))
      << "answer: '" << answer.substr(0, 40) << "'";
  ASSERT_EQ(random_exchange(clients[1], rng, 100), "") << "the other client, afterwards";
}

// write_timeout closes a client that sends requests but does not read the replies, once its
// output has kept the server from reading it that long; a client talking normally is served.
TEST_P(ConformanceTest, AClientThatDoesNotReadIsCutAtWriteTimeout) {
  ServerOptions options = options_for_capacity(4);
  options.config_yaml = "write_timeout: 1s\nidle_timeout: 30s\nlimits: {min_rate: 0}\n";
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  std::mt19937_64 rng(13);
  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(open_served_clients(2, rng, clients));  // [1] talks normally
  // More than the kernel's socket buffers on both sides hold (loopback autotuning lets them
  // take about 10 MiB), so that the client's sending stalls on the server's backpressure.
  std::string requests;
  while (requests.size() < 32 * 1024 * 1024) {
    requests += model_->make_exchange(rng, 64 * 1024).request;
  }
  const std::size_t sent = srv::test::send_until_stalled(clients[0], requests, 200ms, 5s);
  ASSERT_LT(sent, requests.size()) << "the server read everything: no backpressure to time";
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(random_exchange(clients[1], rng, 100), "") << "the other client, meanwhile";
  // Reading now drains what was written before the cut; a connection still open would be
  // written to again and stay open (keep-alive), so this fails if write_timeout did nothing.
  std::string drained;
  EXPECT_EQ(expect_closed_by_peer(clients[0], 5s, &drained), "")
      << "write_timeout 1s, 1.5 s after the client stopped reading";
  EXPECT_TRUE(server_->wait_for_log("slow_readers_closed", 1s)) << "the cut is logged";
}

TEST_P(ConformanceTest, AReplyOverMaxOutputBytesEndsTheConnection) {
  std::mt19937_64 rng(17);
  // More than the kernel's socket buffers on both sides hold (about 10 MiB on loopback), so
  // that most of the reply is still in srv's output after the first writes.
  ProtocolModel::BigReply big = model_->big_reply(rng, 24 * 1024 * 1024);
  if (big.request.empty()) GTEST_SKIP() << "no single reply outgrows what the protocol reads";
  ServerOptions options = options_for_capacity(4);
  options.config_yaml = "limits: {output_high_water: 64KiB, max_output_bytes: 1MiB}\n";
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(open_served_clients(2, rng, clients));  // [1] talks normally
  ASSERT_EQ(exchange(clients[0], big.setup, 10s), "") << "setting up the big reply";
  ASSERT_EQ(srv::test::send_all(clients[0], big.request), "");
  // Without the limit the whole reply would come and the connection stay open (keep-alive).
  std::string drained;
  EXPECT_EQ(expect_closed_by_peer(clients[0], 10s, &drained), "")
      << "max_output_bytes 1MiB with a 24 MiB reply to send";
  EXPECT_LT(drained.size(), 24u * 1024 * 1024) << "the reply was cut, not sent whole";
  EXPECT_TRUE(server_->wait_for_log("output_limited_closed", 2s)) << "the cut is logged";
  ASSERT_EQ(random_exchange(clients[1], rng, 100), "") << "the other client, afterwards";
}

// ---- 6. max_connections ----------------------------------------------------------------------

TEST_P(ConformanceTest, CapacityReachedAndReleased) {
  constexpr int kCapacity = 2;
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(kCapacity)));
  std::mt19937_64 rng(7);
  const Exchange probe = model_->probe();

  std::vector<Client> held;
  for (int i = 0; i < kCapacity; ++i) {
    std::string error;
    held.push_back(connect_served(5s, error));
    ASSERT_TRUE(held.back().valid()) << "client " << i << " within capacity: " << error;
    ASSERT_EQ(random_exchange(held.back(), rng, 1000), "") << "client " << i;
  }

  // One more than the capacity, asking to be served.
  auto check_refused = [&](std::string_view what) {
    Client extra = connect_client();
    ASSERT_TRUE(extra.valid());
    (void)srv::test::send_some(extra, probe.request);  // may fail: already refused
    std::string got;
    EXPECT_EQ(expect_closed_by_peer(extra, 5s, &got), "")
        << what << ": a connection beyond capacity " << kCapacity << " must be closed";
    EXPECT_EQ(first_difference(refusal(), got), "")
        << what << ": a connection beyond capacity must get only the refusal";
    if (tls()) {
      EXPECT_EQ(extra.peer_alert(), "internal_error")
          << what << ": over TLS the refusal is a fatal internal_error alert";
    }
  };
  Client queued;
  if (queues()) {
    queued = connect_client();
    ASSERT_TRUE(queued.valid());
    // Over TLS only the ClientHello goes out; the probe waits for the handshake.
    ASSERT_EQ(srv::test::send_some(queued, probe.request), "");
    std::string got;
    PeerActivity activity = watch_peer(queued, 1s, got);
    ASSERT_EQ(activity, PeerActivity::kSilent)
        << "a connection beyond capacity must wait in the backlog, but it was "
        << srv::test::to_string(activity) << " (" << got.size() << " bytes)";
  } else {
    ASSERT_NO_FATAL_FAILURE(check_refused("at capacity"));
  }
  ASSERT_EQ(random_exchange(held[1], rng, 5000), "") << "held client while at capacity";

  held[0].reset();  // frees one place

  if (queues()) {
    std::string reply;
    ASSERT_EQ(transact(queued, "", probe.reply.size(), reply, 5s), "")
        << "the queued connection must be served once a place is free";
    ASSERT_EQ(first_difference(probe.reply, model_->normalize(reply)), "");
    EXPECT_EQ(random_exchange(queued, rng, 5000), "") << "queued client, now served";
  } else {
    std::string error;
    Client fresh = connect_served(5s, error);
    ASSERT_TRUE(fresh.valid()) << "no new connection served within 5 s after one of " << kCapacity
                               << " closed: " << error;
    EXPECT_EQ(random_exchange(fresh, rng, 5000), "") << "new client after the release";
    // Full again.
    ASSERT_NO_FATAL_FAILURE(check_refused("full again after the release"));
  }
  EXPECT_EQ(random_exchange(held[1], rng, 5000), "") << "held client at the end";
}

// ---- 7. No zombies, no leaked threads --------------------------------------------------------

TEST_P(ConformanceTest, NoZombiesOrLeakedThreadsAfterManyConnections) {
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(8)));
  const pid_t pid = server_->generation_pid();  // the process that serves
  ASSERT_GT(pid, 0) << "no generation started";
  std::mt19937_64 rng(8);

  // The baseline: the counts once one connection has come and gone and they have settled
  // (unchanged for 300 ms; pools may still be growing just after start-up).
  {
    std::string error;
    Client fd = connect_served(5s, error);
    ASSERT_TRUE(fd.valid()) << error;
  }
  int threads = -1;
  int children = -1;
  auto unchanged_since = Clock::now();
  poll_until(
      [&] {
        int now_threads = count_threads(pid);
        int now_children = count_live_children(pid);
        if (now_threads != threads || now_children != children) {
          threads = now_threads;
          children = now_children;
          unchanged_since = Clock::now();
        }
        return Clock::now() - unchanged_since >= 300ms;
      },
      3s);

  constexpr int kConnections = 50;
  for (int i = 0; i < kConnections; ++i) {
    std::string error;
    Client fd = connect_served(5s, error);
    ASSERT_TRUE(fd.valid()) << "connection " << i << ": " << error;
    if (i % 2 == 1) {
      // Leave with a request in flight and its reply unread.
      (void)srv::test::send_all(fd, model_->make_exchange(rng, 3000).request);
    }
  }

  EXPECT_TRUE(poll_until([&] { return count_zombie_children(pid) == 0; }, 2s))
      << count_zombie_children(pid) << " zombie children after " << kConnections
      << " short connections";
  EXPECT_TRUE(poll_until([&] { return count_threads(pid) <= threads; }, 2s))
      << "threads: " << count_threads(pid) << " after " << kConnections << " connections, "
      << threads << " after the first";
  EXPECT_TRUE(poll_until([&] { return count_live_children(pid) <= children; }, 2s))
      << "child processes: " << count_live_children(pid) << " after " << kConnections
      << " connections, " << children << " after the first";
  EXPECT_TRUE(server_->running());
}

// ---- 8. Crash isolation ----------------------------------------------------------------------

// A strategy that serves connections in child processes loses only the connection whose process
// dies: the other clients go on, and new connections are served (prefork replaces the worker).
// The strategies that serve every connection in one process have no such isolation, by design.
TEST_P(ConformanceTest, AKilledServingProcessTakesOnlyItsConnection) {
  if (!GetParam().forks) {
    GTEST_SKIP() << GetParam().strategy
                 << " serves every connection in one process: a crash takes all of them";
  }
  // Capacity 2, both taken: the new connection after the kill can only be served by a process
  // that replaced the dead one (prefork) or by the freed place (fork).
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(2)));
  std::mt19937_64 rng(9);
  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(open_served_clients(2, rng, clients));
  std::vector<pid_t> children;
  for (const ProcInfo& child : live_children()) children.push_back(child.pid);
  const pid_t victim = srv::test::process_serving(clients[0].fd(), children);
  ASSERT_GT(victim, 0) << "no child of srv holds the server end of the first client";
  ASSERT_NE(victim, srv::test::process_serving(clients[1].fd(), children));

  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  std::string got;
  EXPECT_EQ(expect_closed_by_peer(clients[0], 5s, &got), "")
      << "the killed process's client must see its connection end";
  EXPECT_EQ(random_exchange(clients[1], rng, 5000), "")
      << "the other client must be served as if nothing happened";
  std::string error;
  Client fresh = connect_served(5s, error);
  ASSERT_TRUE(fresh.valid()) << "no new connection served after the kill: " << error;
  EXPECT_EQ(random_exchange(fresh, rng, 5000), "");
  EXPECT_TRUE(server_->running());
}

INSTANTIATE_TEST_SUITE_P(Registry, ConformanceTest, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace

// ---- 8. Out of descriptors -------------------------------------------------------------------

// With RLIMIT_NOFILE far below the number of clients, accept() fails with EMFILE. The server
// must shed the excess (close it) rather than crash or spin on a listener that stays readable,
// and serve again once descriptors are free.
TEST_P(ConformanceTest, RunningOutOfDescriptorsNeitherCrashesNorSpins) {
  constexpr int kOpenFiles = 64;
  constexpr int kClients = 150;
  ServerOptions options = options_for_capacity(256);
  if (GetParam().strategy == "prefork") options.workers = 2;
  if (GetParam().strategy == "threadpool") options.threads = 4;
  options.max_open_files = kOpenFiles;
  ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  {
    std::string error;
    Client first = connect_served(5s, error);
    ASSERT_TRUE(first.valid()) << error;
  }

  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) {
    std::string error;
    Client fd = connect_to(wire(), server_->port(), 2s, &error);
    if (fd.valid()) {
      (void)srv::test::send_some(fd, model_->probe().request);
      clients.push_back(std::move(fd));
    }
  }
  // While every descriptor is taken, the server may use some CPU to shed connections, but a
  // busy loop would use all of a core. The bound is loose on purpose: this checks "not
  // spinning", not speed. It is taken per process: `fork` first forks a child for each of the
  // clients, which on a loaded machine (and under ASan) can take a while, and 150 children each
  // starting up are a burst, not a spin. The window is measured once the CPU has settled,
  // waiting for that no more than 5 s.
  auto busiest_share = [&](milliseconds window) {
    const auto before = srv::test::cpu_ticks_by_process(server_->pid());
    const auto wall_before = Clock::now();
    std::this_thread::sleep_for(window);
    const auto after = srv::test::cpu_ticks_by_process(server_->pid());
    const double wall_ticks =
        std::chrono::duration<double>(Clock::now() - wall_before).count() * ::sysconf(_SC_CLK_TCK);
    unsigned long long busiest = 0;
    for (const auto& [pid, ticks] : after) {
      const auto was = before.find(pid);
      busiest = std::max(busiest, ticks - (was == before.end() ? 0 : was->second));
    }
    return static_cast<double>(busiest) / wall_ticks;
  };
  // `fork` forks a child for each client, and under ASan each fork costs its parent several
  // milliseconds: first wait for the number of processes to stop changing (500 ms alike, at
  // most 10 s), so that the window measures a server that has nothing left to do.
  {
    const auto until = Clock::now() + 10s;
    std::size_t last = srv::test::live_group_members(server_->pid()).size();
    auto stable_since = Clock::now();
    while (Clock::now() < until && Clock::now() - stable_since < 500ms) {
      std::this_thread::sleep_for(100ms);
      std::size_t now = srv::test::live_group_members(server_->pid()).size();
      if (now != last) {
        last = now;
        stable_since = Clock::now();
      }
    }
  }
  const auto settle_until = Clock::now() + 5s;
  while (Clock::now() < settle_until && busiest_share(300ms) >= 0.5) {
  }
  const double share = busiest_share(1500ms);
  EXPECT_LT(share, 0.5) << "a process of srv used " << static_cast<int>(share * 100)
                        << "% of a core for 1.5 s while out of descriptors: it is spinning";
  ASSERT_TRUE(server_->running()) << "srv died while out of descriptors";

  clients.clear();
  std::string error;
  Client again = connect_served(10s, error);
  EXPECT_TRUE(again.valid()) << "not served once descriptors were free again: " << error;
}

// ---- 10. TLS handshakes that go wrong --------------------------------------------------------

// Only over TLS: what a TLS listener owes clients that do not finish a handshake. Each case ends
// with SIGTERM and a clean exit, so that under LeakSanitizer srv's own leak check runs and every
// OpenSSL object of a failed handshake must have been freed.
namespace {

class TlsConformanceTest : public ConformanceTest {
 protected:
  /// A fresh server (replacing any earlier one) of capacity `capacity`.
  void restart_server(int capacity, std::string handshake_timeout) {
    server_.reset();
    ServerOptions options = options_for_capacity(capacity);
    options.tls_handshake_timeout = std::move(handshake_timeout);
    ASSERT_NO_FATAL_FAILURE(start_server(std::move(options)));
  }

  /// The first output line of the server containing `needle`, waiting up to `timeout` for it;
  /// "" if none came.
  std::string log_line(std::string_view needle, milliseconds timeout) const {
    server_->wait_for_log(needle, timeout);
    for (const std::string& line : server_->log_lines()) {
      if (line.find(needle) != std::string::npos) return line;
    }
    return "";
  }

  /// A plain TCP client on the TLS port, to send bytes that are not (all of) a handshake.
  Client connect_raw() const {
    std::string error;
    Client client = connect_to(Wire::kTcp, server_->port(), 5s, &error);
    if (!client.valid()) ADD_FAILURE() << "cannot connect to srv: " << error;
    return client;
  }

  /// A TLS client served one exchange; "" or what went wrong.
  /// The attempts that failed before serve_one() was served, for messages.
  std::string serve_one(std::mt19937_64& rng, std::string* attempts = nullptr) const {
    std::string error;
    Client client = connect_served(5s, error, attempts);
    if (!client.valid()) return "not served: " + error;
    return random_exchange(client, rng, 10 * 1024);
  }

  /// SIGTERM, then exit status 0 within 5 s (under LeakSanitizer: no leak).
  void expect_clean_stop() {
    server_->terminate();
    expect_clean_exit(5s, "SIGTERM with no connection open");
  }
};

/// The cases before the first protocol byte (a handshake's fate does not depend on the protocol):
/// one per strategy, with its first protocol.
class TlsHandshakeTest : public TlsConformanceTest {};

std::vector<Case> tls_handshake_cases() {
  std::vector<Case> cases;
  for (const Case& c : tls_cases()) {
    bool seen = std::any_of(cases.begin(), cases.end(),
                            [&](const Case& other) { return other.strategy == c.strategy; });
    if (!seen) cases.push_back(c);
  }
  return cases;
}

// A client that stops mid-handshake holds its connection only for tls.handshake_timeout, and
// while it does, other clients are served at once (no strategy waits on a handshake).
TEST_P(TlsHandshakeTest, StalledHandshakesAreClosedAfterTheHandshakeTimeout) {
  ASSERT_NO_FATAL_FAILURE(restart_server(8, "1s"));
  std::mt19937_64 rng(11);
  const std::string hello = srv::test::client_hello();
  ASSERT_GT(hello.size(), 10U) << "cannot make a ClientHello";
  struct Stall {
    const char* what;
    std::string bytes;
  };
  const Stall stalls[] = {
      {"sends nothing", ""},
      {"sends half a ClientHello", hello.substr(0, hello.size() / 2)},
      {"sends a ClientHello, then nothing", hello},
  };
  std::vector<Client> stalled;
  const auto opened = Clock::now();
  for (const Stall& stall : stalls) {
    stalled.push_back(connect_raw());
    ASSERT_TRUE(stalled.back().valid());
    ASSERT_EQ(srv::test::send_all(stalled.back(), stall.bytes), "") << stall.what;
  }

  std::string attempts;
  EXPECT_EQ(serve_one(rng, &attempts), "")
      << "a TLS client while " << stalled.size() << " handshakes stall" << attempts;
  EXPECT_LT(Clock::now() - opened, 900ms)
      << "a TLS client was served only after the stalled handshakes had timed out" << attempts;

  // When each one is closed, watched together (a ClientHello gets the server's answer first).
  std::vector<std::optional<milliseconds>> closed(stalled.size());
  poll_until(
      [&] {
        for (std::size_t i = 0; i < stalled.size(); ++i) {
          std::string ignored;
          if (!closed[i] && watch_peer(stalled[i], 0ms, ignored) == PeerActivity::kClosed) {
            closed[i] = std::chrono::duration_cast<milliseconds>(Clock::now() - opened);
          }
        }
        return std::all_of(closed.begin(), closed.end(), [](auto& c) { return c.has_value(); });
      },
      4s);
  for (std::size_t i = 0; i < stalled.size(); ++i) {
    ASSERT_TRUE(closed[i].has_value())
        << "a client that " << stalls[i].what << " is still open 4 s in (handshake_timeout 1s)";
    EXPECT_GE(closed[i]->count(), 900)
        << "a client that " << stalls[i].what << " was closed before handshake_timeout (1s)";
  }
  EXPECT_NE(log_line("timed out: the client sent no complete handshake", 2s), "");

  // The counter counts every timeout, though the log says so at most once a second: one more,
  // over a second after the first, is logged with the total.
  Client late = connect_raw();
  ASSERT_TRUE(late.valid());
  EXPECT_EQ(expect_closed_by_peer(late, 4s), "") << "a client that sends nothing";
  const std::string line =
      log_line(fmt::format("TLS handshake with 127.0.0.1:{} timed out", local_port(late)), 2s);
  EXPECT_NE(line.find(fmt::format("({} so far)", stalled.size() + 1)), std::string::npos)
      << "no timeout logged for the last client with the total " << stalled.size() + 1 << ": '"
      << line << "'";
  expect_clean_stop();
}

// Bytes that are not a TLS handshake are refused at once (an alert or a plain close), never
// answered in plaintext, and a concurrent TLS client goes on being served.
TEST_P(TlsConformanceTest, BytesThatAreNotTlsAreClosedAtOnce) {
  const std::string probe = model_->probe().request;
  // OpenSSL tells plaintext HTTP from other garbage by the first bytes.
  const bool http = probe.starts_with("GET ") || probe.starts_with("POST ");
  struct Row {
    const char* what;
    std::string bytes;
    const char* counter;
  };
  const Row rows[] = {
      {"garbage instead of a ClientHello", std::string(64, '\xff'), "tls_failed_malformed"},
      {"the protocol's probe in plaintext", probe,
       http ? "tls_failed_plaintext" : "tls_failed_malformed"},
  };
  std::mt19937_64 rng(12);
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    // A fresh server per row, so its line is not rate-limited away; the handshake timeout is
    // srv's default (10s): a close within 3 s is the server's answer to the bytes.
    ASSERT_NO_FATAL_FAILURE(restart_server(8, ""));
    std::string error;
    Client normal = connect_served(5s, error);
    ASSERT_TRUE(normal.valid()) << error;
    Client bad = connect_raw();
    ASSERT_TRUE(bad.valid());
    ASSERT_EQ(srv::test::send_all(bad, row.bytes), "");
    EXPECT_EQ(random_exchange(normal, rng, 10 * 1024), "") << "the TLS client opened before";
    EXPECT_EQ(serve_one(rng), "") << "a TLS client opened after";
    std::string got;
    EXPECT_EQ(expect_closed_by_peer(bad, 3s, &got), "");
    EXPECT_TRUE(got.empty() || got[0] == '\x15')
        << "the answer must be nothing or a TLS alert record, got " << got.size()
        << " bytes starting with " << fmt::format("{:#04x}", static_cast<unsigned char>(got[0]));
    const std::string line =
        log_line(fmt::format("TLS handshake with 127.0.0.1:{} failed: ", local_port(bad)), 2s);
    EXPECT_NE(line.find(fmt::format("{} 1 so far", row.counter)), std::string::npos)
        << "expected a failure counted as " << row.counter << ", got '" << line << "'";
    EXPECT_EQ(random_exchange(normal, rng, 1000), "") << "the TLS client opened before, at the end";
    normal.reset();
    expect_clean_stop();
  }
}

// A client that goes away mid-handshake frees its place: at capacity 2, two such clients, then
// two clients served at once. The ClientHello is sent by hand (plain clients), so that the
// handshake stops exactly there.
TEST_P(TlsHandshakeTest, ClientsVanishingMidHandshakeLeaveNoSlotBehind) {
  constexpr int kCapacity = 2;
  const std::string hello = srv::test::client_hello();
  ASSERT_GT(hello.size(), 10U) << "cannot make a ClientHello";
  struct Row {
    const char* what;
    bool await_answer;  ///< wait for the server's flight (it then waits for our Finished)
    bool reset;         ///< leave with a reset (SO_LINGER 0) rather than a close
  };
  const Row rows[] = {
      {"closes right after its ClientHello", false, false},
      {"resets right after its ClientHello", false, true},
      {"resets once the server has answered", true, true},
  };
  std::mt19937_64 rng(13);
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    ASSERT_NO_FATAL_FAILURE(restart_server(kCapacity, ""));
    std::vector<std::uint16_t> ports;
    for (int i = 0; i < kCapacity; ++i) {
      Client client = connect_raw();
      ASSERT_TRUE(client.valid());
      ports.push_back(local_port(client));
      ASSERT_EQ(srv::test::send_all(client, hello), "");
      if (row.await_answer) {
        std::string answer;
        ASSERT_EQ(watch_peer(client, 5s, answer), PeerActivity::kData)
            << "no answer to the ClientHello within 5 s";
      }
      if (row.reset) {
        client.abort();
      } else {
        client.reset();
      }
    }
    // The first failure the server sees is logged (it may be either client's, under fork). A
    // reset that arrives before accept() leaves the server no peer address to name.
    // Under the threaded strategies both failures can be counted before either is logged, so
    // the logged line may say "2 so far".
    std::string line = log_line("tls_failed_closed 1 so far", 3s);
    if (line.empty()) line = log_line("tls_failed_closed 2 so far", 1s);
    const bool named = std::any_of(ports.begin(), ports.end(), [&](std::uint16_t port) {
      return line.find(fmt::format("TLS handshake with 127.0.0.1:{} failed: the client went away",
                                   port)) != std::string::npos;
    });
    EXPECT_TRUE(named || (row.reset && line.find("TLS handshake with unknown peer failed: the "
                                                 "client went away") != std::string::npos))
        << "no failure logged for the clients that vanished: '" << line << "'";

    std::vector<Client> clients;
    for (int i = 0; i < kCapacity; ++i) {
      std::string error;
      clients.push_back(connect_served(5s, error));
      ASSERT_TRUE(clients.back().valid())
          << "client " << i << " of " << kCapacity << " not served within 5 s after clients "
          << "vanished mid-handshake (leaked slot?): " << error;
    }
    for (Client& client : clients) EXPECT_EQ(random_exchange(client, rng, 10 * 1024), "");
    clients.clear();
    expect_clean_stop();
  }
}

// A new connection's first reply is not held back. Over TLS 1.3 srv writes its session tickets
// as the handshake ends and the reply right after; with Nagle on, the reply waits for the
// client's delayed ACK of the tickets, 40 ms or more every time. The fastest of 20 connections
// is well under that unless every one of them waited.
TEST_P(TlsHandshakeTest, FirstReplyIsNotHeldBackByNagle) {
  constexpr int kConnections = 20;
  constexpr auto kDelayedAck = 40ms;
  ASSERT_NO_FATAL_FAILURE(restart_server(8, ""));
  auto fastest = Clock::duration::max();
  for (int i = 0; i < kConnections; ++i) {
    const auto start = Clock::now();
    std::string error;
    Client client = connect_served(5s, error);
    ASSERT_TRUE(client.valid()) << error;
    fastest = std::min(fastest, Clock::now() - start);
  }
  EXPECT_LT(fastest, kDelayedAck)
      << "the fastest of " << kConnections << " new TLS connections took "
      << std::chrono::duration_cast<milliseconds>(fastest).count()
      << " ms to its first reply: replies wait for the client's delayed ACK (TCP_NODELAY off?)";
}

INSTANTIATE_TEST_SUITE_P(Registry, TlsConformanceTest, ::testing::ValuesIn(tls_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Registry, TlsHandshakeTest, ::testing::ValuesIn(tls_handshake_cases()),
                         case_name);

}  // namespace

// ---- 11. Waking a parked connection ----------------------------------------------------------

// The wake-up seam (server/waker.h) under every strategy x {tcp, tls}, through the WAIT/POKE
// protocol of tests/plugin/wait_poke.cc: a connection parked on WAIT is woken by a POKE from
// another connection, served by another thread or (fork, prefork) another process.
namespace {

std::vector<Case> wake_cases() {
  std::vector<Case> cases;
  for (Wire wire : {Wire::kTcp, Wire::kTls}) {
    for (const srv::StrategyInfo& strategy : srv::strategy_registry()) {
      cases.push_back(
          {std::string(strategy.name), WAITPOKE_PLUGIN, strategy.overflow, strategy.forks, wire});
    }
  }
  return cases;
}

class WakeConformanceTest : public ConformanceTest {
 protected:
  /// Sends `request` and expects exactly `reply`; "" or what went wrong.
  std::string ask(Client& client, std::string_view request, std::string_view reply,
                  milliseconds timeout = kIoTimeout) const {
    return exchange(client, {std::string(request), std::string(reply)}, timeout);
  }

  /// Sends `request` and reads one reply line (without its newline); "?: why" on failure.
  std::string ask_line(Client& client, std::string_view request) const {
    std::string error = srv::test::send_all(client, request);
    std::string line;
    while (error.empty() && (line.empty() || line.back() != '\n')) {
      error = srv::test::read_exactly(client, 1, line);
    }
    return error.empty() ? line.substr(0, line.size() - 1) : "?: " + error;
  }

  /// A client served its probe; a fatal failure if none is.
  void connect(Client& client) const {
    std::string error;
    client = connect_served(5s, error);
    ASSERT_TRUE(client.valid()) << error;
  }

  /// Polls WAITERS `key` on `client` until it says `n`, for up to `timeout`.
  bool waiters_become(Client& client, std::string_view key, int n, milliseconds timeout) const {
    std::string last;
    bool done = poll_until(
        [&] {
          last = ask_line(client, fmt::format("WAITERS {}\n", key));
          return last == std::to_string(n);
        },
        timeout, 20ms);
    if (!done) ADD_FAILURE() << "WAITERS " << key << " says " << last << ", not " << n;
    return done;
  }
};

TEST_P(WakeConformanceTest, PokeWakesAWaiterServedElsewhere) {
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(8)));
  Client waiter;
  Client poker;
  ASSERT_NO_FATAL_FAILURE(connect(waiter));
  ASSERT_NO_FATAL_FAILURE(connect(poker));
  if (GetParam().forks || GetParam().strategy == "prefork") {
    EXPECT_NE(ask_line(waiter, "PID\n"), ask_line(poker, "PID\n"))
        << "the wake is meant to cross processes here";
  }
  // The PING after WAIT is held while parked and answered after the wake.
  ASSERT_EQ(srv::test::send_all(waiter, "WAIT k1\nPING\n"), "");
  ASSERT_TRUE(waiters_become(poker, "k1", 1, 5s));
  std::string early;
  EXPECT_EQ(watch_peer(waiter, 200ms, early), PeerActivity::kSilent) << early;
  EXPECT_EQ(ask(poker, "POKE k1\n", "POKED 1\n"), "");
  EXPECT_EQ(ask(waiter, "", "WOKE k1\nPONG\n", 5s), "");
  EXPECT_EQ(ask(poker, "POKE k1\n", "POKED 0\n"), "") << "the waiter is gone from the table";
  EXPECT_EQ(ask(waiter, "PING\n", "PONG\n"), "") << "unparked, it is served as before";
  // Waiting again, then woken from a connection of the same thread or process too.
  ASSERT_EQ(srv::test::send_all(waiter, "WAIT k1\n"), "");
  ASSERT_TRUE(waiters_become(poker, "k1", 1, 5s));
  EXPECT_EQ(ask(poker, "POKE k1\n", "POKED 1\n"), "");
  EXPECT_EQ(ask(waiter, "", "WOKE k1\n", 5s), "");
}

TEST_P(WakeConformanceTest, AWaiterTimesOutAtItsDeadline) {
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(4)));
  Client waiter;
  ASSERT_NO_FATAL_FAILURE(connect(waiter));
  const auto start = Clock::now();
  EXPECT_EQ(ask(waiter, "WAIT k2 150\n", "TIMEOUT k2\n", 5s), "");
  EXPECT_GE(Clock::now() - start, 140ms);
  EXPECT_EQ(ask(waiter, "PING\n", "PONG\n"), "");
}

// A parked connection keeps reading: a client that leaves is noticed at once, and its handler
// (the waiter) is destroyed.
TEST_P(WakeConformanceTest, AWaiterThatLeavesIsForgotten) {
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(4)));
  Client waiter;
  Client watcher;
  ASSERT_NO_FATAL_FAILURE(connect(waiter));
  ASSERT_NO_FATAL_FAILURE(connect(watcher));
  ASSERT_EQ(srv::test::send_all(waiter, "WAIT k3\n"), "");
  ASSERT_TRUE(waiters_become(watcher, "k3", 1, 5s));
  waiter.reset();
  EXPECT_TRUE(waiters_become(watcher, "k3", 0, 5s));
}

// 100 parked connections cost no CPU while nothing happens (no polling, no timers), and one
// POKE wakes them all.
TEST_P(WakeConformanceTest, HundredWaitersCostNoCpuUntilPoked) {
  constexpr int kWaiters = 100;
  ASSERT_NO_FATAL_FAILURE(start_server(options_for_capacity(kWaiters + 4)));
  std::vector<Client> waiters(kWaiters);
  for (Client& waiter : waiters) {
    ASSERT_NO_FATAL_FAILURE(connect(waiter));
    ASSERT_EQ(srv::test::send_all(waiter, "WAIT many\n"), "");
  }
  Client poker;
  ASSERT_NO_FATAL_FAILURE(connect(poker));
  ASSERT_TRUE(waiters_become(poker, "many", kWaiters, 10s));
  // Let what starting 100 connections cost (fork's children, TLS handshakes) settle first.
  auto cpu_ticks = [&](milliseconds window) {
    const auto before = srv::test::group_cpu_ticks(server_->pid());
    std::this_thread::sleep_for(window);
    return srv::test::group_cpu_ticks(server_->pid()) - before;
  };
  const auto settle_until = Clock::now() + 5s;
  while (Clock::now() < settle_until && cpu_ticks(300ms) > 0) {
  }
  const auto ticks = cpu_ticks(2s);
  const auto per_second = ::sysconf(_SC_CLK_TCK);
  std::cout << "[ measured ] " << kWaiters << " parked connections: " << ticks
            << " CPU ticks in 2 s (" << per_second << " a second)\n";
  EXPECT_LE(ticks, static_cast<unsigned long long>(per_second / 20))
      << "srv used " << ticks << " ticks in 2 s with every connection parked: it polls";
  EXPECT_EQ(ask(poker, "POKE many\n", fmt::format("POKED {}\n", kWaiters)), "");
  const auto deadline = Clock::now() + 5s;  // for all of them: bounded when none is woken
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    ASSERT_EQ(ask(waiters[i], "", "WOKE many\n", milliseconds(std::max(ms_left(deadline), 1))), "")
        << "waiter " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, WakeConformanceTest, ::testing::ValuesIn(wake_cases()),
                         case_name);

}  // namespace
