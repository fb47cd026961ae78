// Fuzzes srv::Connection, the policy half of a connection, through a fake transport whose every
// answer is decided by the input: reads of random sizes, kWouldBlock waiting for either
// direction (as TLS can), short writes, EOF, errors, input pending that polling cannot see;
// and a driver that calls on_ready() with random readiness, on_wake() and on_timeout() in a
// random order. The payload the fake peer sends is the front of the input (so seeds are plain
// protocol text); the decisions come off the back (FuzzedDataProvider's integers). The real
// echo, http and resp handlers answer. Beyond "no crash, no sanitizer report, no hang":
// - the transport is used as its contract says: no empty read or write, no read after EOF or an
//   error, no write or second shutdown after the shutdown completed;
// - echo writes back a prefix of what it read, with at most output_high_water - 1 + read_chunk
//   bytes read and not yet written; http output starts with a status line, resp with a type byte;
// - an open connection that is not parked wants to read or write (or has input pending), so a
//   poller always has a reason to call it again;
// - after on_timeout() the connection is finished or its deadline lies ahead (a slow request is
//   answered, e.g. with a 408, and closed after the flush);
// - once the peer sends EOF and reads everything, the connection finishes (or stays parked).
//
// Connection reads std::chrono::steady_clock itself (server/clock.h), so time cannot be faked:
// timeouts are chosen by the input as due at once (idle and linger 0, the header timeout 0, a
// min_rate of 1 TiB/s with no grace, which every running request and reply misses) or as an
// hour (never due within a run), and on_timeout() is only called when deadline() has passed,
// as its contract says. read_timeout and write_timeout keep their defaults: 0 means none, so
// they cannot be made due at once.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "config/section.h"
#include "protocols/echo.h"
#include "protocols/http.h"
#include "protocols/resp.h"
#include "server/connection.h"

namespace {

using namespace std::chrono_literals;
using srv::Clock;
using srv::IoResult;
using srv::IoStatus;
using srv::Readiness;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "connection_fuzz: %s\n", what);
  std::abort();
}

// The peer's side of the fake transport; outlives the transport, which the Connection owns.
struct Peer {
  explicit Peer(FuzzedDataProvider& fdp) : in(fdp) {}
  FuzzedDataProvider& in;
  std::string delivered;  // bytes the server has read
  std::string written;    // bytes the server has written
  bool draining = false;  // the script is over: send everything, then EOF; accept every write
  bool eof_sent = false;
  bool broken = false;  // a call returned kError
  bool shut_down = false;
  bool pending = false;  // the next read returns input without the fd being readable
  bool past_deadline = false;
};

class FakeTransport final : public srv::Transport {
 public:
  explicit FakeTransport(Peer& peer) : peer_(peer) {}

  int fd() const override { return -1; }

  IoResult read(std::span<char> into) override {
    if (into.empty()) fail("read into an empty buffer");
    if (peer_.eof_sent || peer_.broken) fail("read after EOF or an error");
    FuzzedDataProvider& in = peer_.in;
    std::uint8_t choice = peer_.draining || peer_.pending ? 0 : in.ConsumeIntegral<std::uint8_t>();
    peer_.pending = false;
    if (choice == 255) return error();
    if (choice % 8 == 5) return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
    if (choice % 8 == 6) return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
    std::size_t want = peer_.draining ? into.size() : 1 + in.ConsumeIntegral<std::uint8_t>() % 64;
    std::string bytes = in.ConsumeBytesAsString(std::min(want, into.size()));
    if (bytes.empty() || choice % 8 == 7) {
      // A peer with nothing more to send has finished; otherwise EOF may come early.
      if (bytes.empty() && !peer_.draining && choice % 8 != 7) {
        return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
      }
      peer_.eof_sent = true;
      return {IoStatus::kEof};
    }
    std::copy(bytes.begin(), bytes.end(), into.begin());
    peer_.delivered += bytes;
    peer_.pending = !peer_.draining && choice % 8 == 4 && in.remaining_bytes() > 0;
    return {IoStatus::kDone, bytes.size()};
  }

  IoResult write(std::string_view bytes) override {
    if (bytes.empty()) fail("an empty write");
    if (peer_.shut_down || peer_.broken) fail("write after shutdown or an error");
    std::uint8_t choice = peer_.draining ? 0 : peer_.in.ConsumeIntegral<std::uint8_t>();
    if (choice == 255) return error();
    std::size_t n = bytes.size();
    switch (choice % 6) {
      case 4:
        return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
      case 5:
        return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
      case 1:
      case 2:
        n = std::min<std::size_t>(n, 1 + peer_.in.ConsumeIntegral<std::uint8_t>() % 16);
        break;
      default:
        break;
    }
    peer_.written.append(bytes.substr(0, n));
    return {IoStatus::kDone, n};
  }

  IoResult shutdown_write() override {
    if (peer_.shut_down || peer_.broken) fail("shutdown after shutdown or an error");
    std::uint8_t choice = peer_.draining ? 0 : peer_.in.ConsumeIntegral<std::uint8_t>();
    if (choice == 255) return error();
    if (choice % 4 == 1) return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
    if (choice % 4 == 2) return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
    peer_.shut_down = true;
    return {IoStatus::kDone};
  }

  bool has_pending() const override { return peer_.pending; }
  Clock::time_point deadline() const override {
    return peer_.past_deadline ? Clock::time_point() : Clock::time_point::max();
  }

 private:
  IoResult error() {
    peer_.broken = true;
    return {IoStatus::kError};
  }

  Peer& peer_;
};

enum class Protocol { kEcho, kHttp, kResp };

struct Setup {
  Protocol protocol = Protocol::kEcho;
  srv::ConnectionLimits limits;
  std::unique_ptr<srv::ProtocolFactory> factory;
};

// The first decisions choose the protocol and small limits, so that the fuzzer reaches them.
Setup make_setup(FuzzedDataProvider& in, Peer& peer) {
  Setup s;
  auto flags = in.ConsumeIntegral<std::uint8_t>();
  s.protocol = static_cast<Protocol>(flags % 3);
  s.limits.idle_timeout = (flags & 0x04) ? 0ms : 1h;
  s.limits.linger_timeout = (flags & 0x08) ? 0ms : 1h;
  s.limits.min_rate = (flags & 0x80) ? srv::MinRate{1ULL << 40, 0ms} : srv::MinRate{1, 1h};
  peer.past_deadline = (flags & 0x30) == 0x30;
  s.limits.read_chunk = 1 + in.ConsumeIntegral<std::uint8_t>() % 64;
  s.limits.output_high_water = 1 + in.ConsumeIntegral<std::uint8_t>() % 128;
  s.limits.max_input_buffer = 16 + in.ConsumeIntegral<std::uint8_t>() % 512;
  switch (s.protocol) {
    case Protocol::kEcho: {
      srv::Section no_options("fuzz", YAML::Node(YAML::NodeType::Map), "options");
      s.factory = srv::make_echo_protocol(no_options);
      break;
    }
    case Protocol::kHttp: {
      srv::HttpLimits http;
      http.max_header_bytes = 256;
      http.max_body_bytes = 512;
      http.header_timeout = (flags & 0x40) ? Clock::duration(0) : Clock::duration(1h);
      s.factory = srv::make_http_protocol(http);
      break;
    }
    case Protocol::kResp: {
      srv::RespSettings resp;
      resp.max_memory = 64 * 1024;
      resp.max_bulk_length = 256;
      resp.max_args = 16;
      resp.pubsub_output_limit = 1024;
      s.factory = std::make_unique<srv::RespFactory>(resp);
      break;
    }
  }
  return s;
}

void check_output(const Setup& s, const Peer& peer) {
  const std::string& out = peer.written;
  switch (s.protocol) {
    case Protocol::kEcho:
      if (!peer.delivered.starts_with(out)) fail("echo wrote what it did not read");
      if (peer.delivered.size() - out.size() >= s.limits.output_high_water + s.limits.read_chunk)
        fail("echo holds more output than output_high_water - 1 + read_chunk");
      break;
    case Protocol::kHttp:
      // A short write may have sent part of the status line so far.
      if (out.substr(0, 9) != std::string_view("HTTP/1.1 ").substr(0, out.size()))
        fail("http output without a status line");
      break;
    case Protocol::kResp:
      if (!out.empty() && std::string_view("+-:$*>").find(out[0]) == std::string_view::npos)
        fail("resp output without a type byte");
      break;
  }
}

void check_live(const srv::Connection& c) {
  if (c.finished() || c.parked()) return;
  if (!c.wants_read() && !c.wants_write() && !c.has_pending())
    fail("an open connection that wants neither to read nor to write");
}

// One scripted event; returns false when the script has run out of input.
bool step(srv::Connection& c, FuzzedDataProvider& in) {
  if (in.remaining_bytes() == 0) return false;
  auto op = in.ConsumeIntegral<std::uint8_t>();
  switch (op % 8) {
    case 0:
    case 1:
    case 2:
    case 3:  // readiness as a poller might report it, spurious or not
      c.on_ready(op & 1, op & 2);
      break;
    case 4:  // the poller's honest answer
      c.on_ready(c.wants_read() || c.has_pending(), c.wants_write());
      break;
    case 5:
      c.on_wake();
      break;
    case 6: {
      Clock::time_point now = Clock::now();
      if (c.deadline() > now) break;
      c.on_timeout();
      if (!c.finished() && c.deadline() <= now) fail("after on_timeout the deadline is still due");
      break;
    }
    default:
      if (c.has_pending()) c.on_ready(true, false);
      break;
  }
  return true;
}

// The peer sends the rest and EOF and reads everything: the connection must finish.
void drain(srv::Connection& c, Peer& peer, const Setup& s) {
  peer.draining = true;
  for (int i = 0; i < 100'000 && !c.finished(); ++i) {
    if (peer.broken) fail("an open connection after a transport error");
    if (c.parked()) return;  // waits for another connection (BLPOP): legitimately
    check_live(c);
    c.on_ready(c.wants_read() || c.has_pending(), c.wants_write());
    check_output(s, peer);
  }
  if (!c.finished()) fail("the connection did not finish after the peer's EOF");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // resp logs every cross-protocol close; a fuzzer makes thousands a second.
  spdlog::set_level(spdlog::level::err);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Peer peer(in);
  Setup setup = make_setup(in, peer);
  srv::Connection connection(std::make_unique<FakeTransport>(peer), *setup.factory,
                             srv::Connection::Origin{1, "127.0.0.1:50000", "127.0.0.1:7000"},
                             nullptr, setup.limits);
  while (!connection.finished() && step(connection, in)) {
    check_output(setup, peer);
    check_live(connection);
  }
  if (!connection.finished()) drain(connection, peer, setup);
  return 0;
}
