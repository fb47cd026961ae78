// Connection's policy (handler feeding, backpressure, half-close, lingering close, deadlines)
// over a scripted fake transport that reads and writes in pieces of any size, blocks at every
// other step, and waits for the "wrong" direction as TLS can; then over a real socketpair.

#include "server/connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "server/socket_transport.h"

namespace srv {
namespace {

using namespace std::chrono_literals;

// A line protocol that exercises every verdict: each whole line comes back; "quit" answers
// "bye" and closes after the flush; "kill" closes at once; "big N" answers N bytes. A partial
// line is left unconsumed until the rest arrives.
class LineHandler final : public ProtocolHandler {
 public:
  Step on_data(std::string_view in, Buffer& out) override {
    std::size_t end = in.find('\n');
    if (end == std::string_view::npos) return {0, Verdict::kContinue};
    std::string_view line = in.substr(0, end);
    if (line == "quit") {
      out.append("bye\n");
      return {end + 1, Verdict::kCloseAfterFlush};
    }
    if (line == "kill") return {end + 1, Verdict::kCloseNow};
    if (line.starts_with("big ")) {
      out.append(std::string(std::stoul(std::string(line.substr(4))), 'x'));
    } else {
      out.append(in.substr(0, end + 1));
    }
    return {end + 1, Verdict::kContinue};
  }
};

// What the fake transport's peer did and saw; outlives the transport, which Connection owns.
struct Peer {
  std::string to_server;  // bytes the peer sent, not yet read by the server
  bool eof = false;       // the peer finished sending after to_server
  std::string from_server;
  bool shut_down = false;  // shutdown_write() completed
  bool close_notified = false;
  bool pending = false;  // the transport claims decoded input polling cannot see
  int reads = 0;
  bool writes_blocked = false;  // the peer does not read: every write would block
  Clock::time_point deadline = Clock::time_point::max();
  bool deadline_reported = false;
};

struct Script {
  std::size_t max_read = std::numeric_limits<std::size_t>::max();
  std::size_t max_write = std::numeric_limits<std::size_t>::max();
  bool block_every_other = false;  // every other call returns kWouldBlock first (EAGAIN)
  Readiness read_waits = Readiness::kReadable;  // kWritable: a read that must write first (TLS)
};

void PrintTo(const Script& s, std::ostream* os) {
  *os << "read<=" << s.max_read << " write<=" << s.max_write
      << (s.block_every_other ? " EAGAIN-every-other-call" : "")
      << (s.read_waits == Readiness::kWritable ? " reads-wait-for-writable" : "");
}

class FakeTransport final : public Transport {
 public:
  FakeTransport(Peer& peer, Script script) : peer_(peer), script_(script) {}

  int fd() const override { return -1; }

  IoResult read(std::span<char> into) override {
    ++peer_.reads;
    // A first read that must write before it can read, as a TLS handshake does.
    bool first = read_calls_ == 0 && script_.read_waits == Readiness::kWritable;
    if (first || block_now(read_calls_)) {
      read_calls_ += first ? 1 : 0;
      return {IoStatus::kWouldBlock, 0, script_.read_waits};
    }
    if (peer_.to_server.empty()) {
      if (peer_.eof) return {IoStatus::kEof};
      return {IoStatus::kWouldBlock, 0, Readiness::kReadable};
    }
    std::size_t n = std::min({into.size(), script_.max_read, peer_.to_server.size()});
    std::copy_n(peer_.to_server.begin(), n, into.begin());
    peer_.to_server.erase(0, n);
    return {IoStatus::kDone, n};
  }

  IoResult write(std::string_view bytes) override {
    if (peer_.writes_blocked || block_now(write_calls_)) {
      return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
    }
    std::size_t n = std::min(bytes.size(), script_.max_write);
    peer_.from_server.append(bytes.substr(0, n));
    return {IoStatus::kDone, n};
  }

  IoResult shutdown_write() override {
    if (block_now(write_calls_)) return {IoStatus::kWouldBlock, 0, Readiness::kWritable};
    peer_.shut_down = true;
    return {IoStatus::kDone};
  }

  void close_notify() override { peer_.close_notified = true; }
  bool has_pending() const override { return peer_.pending; }
  Clock::time_point deadline() const override { return peer_.deadline; }
  void on_deadline() override { peer_.deadline_reported = true; }

 private:
  bool block_now(int& calls) const { return script_.block_every_other && (calls++ % 2 == 0); }

  Peer& peer_;
  Script script_;
  int read_calls_ = 0;
  int write_calls_ = 0;
};

ConnectionLimits small_limits() {
  ConnectionLimits limits;
  limits.read_chunk = 16;
  limits.output_high_water = 64;
  limits.max_input_buffer = 4096;
  return limits;
}

// Plays the poller: the fake is always writable, and readable when the peer has sent something
// not read yet (so every kWouldBlock the script adds is a spurious wake-up). Stops when the
// connection is finished, waits for nothing it can get, or has made no progress for a few turns.
void drive(Connection& connection, const Peer& peer) {
  auto progress = [&] {
    return std::tuple(peer.to_server.size(), peer.from_server.size(), peer.shut_down,
                      peer.close_notified);
  };
  int idle_turns = 0;
  while (!connection.finished() && idle_turns < 4) {
    bool sent = !peer.to_server.empty() || peer.eof;
    bool readable = (connection.wants_read() && sent) || connection.has_pending();
    bool writable = connection.wants_write();
    if (!readable && !writable) break;
    auto before = progress();
    connection.on_ready(readable, writable);
    idle_turns = progress() == before ? idle_turns + 1 : 0;
  }
}

struct Case {
  const char* name;
  std::string input;
  bool eof;
  std::string expected;
  bool finished;
  bool shut_down;       // the connection half-closed (close after flush)
  bool close_notified;  // the connection said goodbye after the peer's EOF
};

std::vector<Case> cases() {
  return {
      {"lines then EOF", "a\nbb\nccc\n", true, "a\nbb\nccc\n", true, false, true},
      {"partial line at EOF", "a\npart", true, "a\n", true, false, true},
      {"quit, then input to discard", "a\nquit\nignored\n", true, "a\nbye\n", true, true, false},
      {"kill drops the rest", "kill\nb\n", true, "", true, false, false},
      {"replies above the high-water mark", "big 300\nz\n", true, std::string(300, 'x') + "z\n",
       true, false, true},
      {"no EOF: stays open", "a\nb\n", false, "a\nb\n", false, false, false},
  };
}

std::vector<Script> scripts() {
  std::vector<Script> out;
  for (std::size_t max_read : {std::size_t{1}, std::size_t{2}, std::size_t{7}, SIZE_MAX}) {
    for (std::size_t max_write : {std::size_t{1}, std::size_t{3}, SIZE_MAX}) {
      for (bool block : {false, true}) {
        for (Readiness waits : {Readiness::kReadable, Readiness::kWritable}) {
          out.push_back({max_read, max_write, block, waits});
        }
      }
    }
  }
  return out;
}

class ConnectionOverFakeTransport : public ::testing::TestWithParam<Script> {};

TEST_P(ConnectionOverFakeTransport, EveryCaseAtEveryReadWriteSize) {
  const ConnectionLimits limits = small_limits();
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Peer peer;
    peer.to_server = c.input;
    peer.eof = c.eof;
    Connection connection(std::make_unique<FakeTransport>(peer, GetParam()),
                          std::make_unique<LineHandler>(), limits);
    drive(connection, peer);
    EXPECT_EQ(peer.from_server, c.expected);
    EXPECT_EQ(connection.finished(), c.finished);
    EXPECT_EQ(peer.shut_down, c.shut_down);
    EXPECT_EQ(peer.close_notified, c.close_notified);
    if (!c.finished) {
      EXPECT_TRUE(peer.to_server.empty()) << "an open connection reads everything sent";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, ConnectionOverFakeTransport, ::testing::ValuesIn(scripts()));

// A read that waits for writability (TLS must send before it can read) asks the poller for
// writability, not readability, and is retried when the fd polls writable.
TEST(Connection, ReadWaitingForWritabilityPollsForWriting) {
  const ConnectionLimits limits = small_limits();
  Peer peer;
  Script script;
  script.read_waits = Readiness::kWritable;
  Connection connection(std::make_unique<FakeTransport>(peer, script),
                        std::make_unique<LineHandler>(), limits);
  connection.on_ready(true, false);  // nothing to read yet: the read waits for writability
  EXPECT_FALSE(connection.wants_read());
  EXPECT_TRUE(connection.wants_write());
  peer.to_server = "hi\n";
  connection.on_ready(false, true);
  EXPECT_EQ(peer.from_server, "hi\n");
}

// A client that does not read its replies is not read from either, and reading resumes once
// the output has gone out.
TEST(Connection, BackpressureStopsReadingUntilOutputDrains) {
  const ConnectionLimits limits = small_limits();
  Peer peer;
  peer.writes_blocked = true;
  peer.to_server = "big 100\n" + std::string(1000, 'y') + "\n";
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<LineHandler>(), limits);
  drive(connection, peer);
  EXPECT_FALSE(connection.wants_read()) << "output is above the high-water mark";
  EXPECT_TRUE(connection.wants_write());
  const int reads = peer.reads;
  peer.pending = true;
  EXPECT_FALSE(connection.has_pending()) << "pending input waits while backpressured";
  connection.on_ready(true, false);
  EXPECT_EQ(peer.reads, reads) << "read while above the high-water mark";
  peer.pending = false;
  peer.writes_blocked = false;
  peer.eof = true;
  drive(connection, peer);
  EXPECT_EQ(peer.from_server, std::string(100, 'x') + std::string(1000, 'y') + "\n");
  EXPECT_TRUE(connection.finished());
}

TEST(Connection, PendingTransportInputIsReportedWhileReading) {
  const ConnectionLimits limits = small_limits();
  Peer peer;
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<LineHandler>(), limits);
  EXPECT_FALSE(connection.has_pending());
  peer.pending = true;
  EXPECT_TRUE(connection.has_pending());
}

TEST(Connection, TransportDeadlineEndsTheConnection) {
  const ConnectionLimits limits = small_limits();
  Peer peer;
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<LineHandler>(), limits);
  peer.deadline = Clock::now() - 1ms;  // an unfinished TLS handshake, say
  EXPECT_LE(connection.deadline(), Clock::now());
  connection.on_timeout();
  EXPECT_TRUE(connection.finished());
  EXPECT_TRUE(peer.deadline_reported);
}

TEST(Connection, IdleTimeoutEndsASilentConnection) {
  Peer peer;
  ConnectionLimits limits = small_limits();
  limits.idle_timeout = 1ms;
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<LineHandler>(), limits);
  EXPECT_LE(connection.deadline(), Clock::now() + 1ms);
  while (connection.deadline() > Clock::now()) {
  }
  connection.on_timeout();
  EXPECT_TRUE(connection.finished());
  EXPECT_FALSE(peer.deadline_reported);
}

// A handler that waits for other connections (a subscriber) has no idle timeout while it has
// nothing to write, and gets it back when it stops waiting.
class SubscriberHandler final : public ProtocolHandler {
 public:
  explicit SubscriberHandler(const bool& waiting) : waiting_(waiting) {}
  Step on_data(std::string_view in, Buffer&) override { return {in.size(), Verdict::kContinue}; }
  bool waits_for_others() const override { return waiting_; }

 private:
  const bool& waiting_;
};

TEST(Connection, NoIdleTimeoutWhileTheHandlerWaitsForOthers) {
  Peer peer;
  ConnectionLimits limits = small_limits();
  limits.idle_timeout = 1ms;
  bool waiting = true;
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<SubscriberHandler>(waiting), limits);
  EXPECT_EQ(connection.deadline(), Clock::time_point::max());
  waiting = false;
  EXPECT_LE(connection.deadline(), Clock::now() + 1ms);
}

TEST(Connection, InputBeyondMaxInputBufferCloses) {
  const ConnectionLimits limits = small_limits();
  Peer peer;
  peer.to_server = std::string(5000, 'n');  // no newline: the handler never consumes
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<LineHandler>(), limits);
  drive(connection, peer);
  EXPECT_TRUE(connection.finished());
  EXPECT_EQ(peer.from_server, "");
}

// ---- parking and waking -------------------------------------------------------------------

// What a ParkingHandler shares with its test: the event it waits for, the deadline it sets
// while waiting, and whether it was destroyed (a parked client that leaves leaves no waiter).
struct Event {
  int posted = 0;  // events not taken yet: a wake with none is spurious
  Clock::time_point deadline = Clock::time_point::max();
  bool destroyed = false;
};

// LineHandler's lines, plus "wait" (parks until an event; then answers "woke"), "waitq" (the
// same, then closes after the flush) and, while not waiting, an event is pushed as "push" (a
// subscriber's message). Its deadline, while waiting, answers "timeout" and unparks.
class ParkingHandler final : public ProtocolHandler {
 public:
  explicit ParkingHandler(Event& event) : event_(event) {}
  ~ParkingHandler() override { event_.destroyed = true; }

  Step on_data(std::string_view in, Buffer& out) override {
    std::size_t end = in.find('\n');
    if (end == std::string_view::npos) return {0, Verdict::kContinue};
    std::string_view line = in.substr(0, end);
    if (line == "wait" || line == "waitq") {
      waiting_ = true;
      quit_after_ = line == "waitq";
      return {end + 1, Verdict::kPark};
    }
    return lines_.on_data(in, out);
  }

  Verdict on_wake(Buffer& out) override {
    if (event_.posted == 0) return waiting_ ? Verdict::kPark : Verdict::kContinue;  // spurious
    --event_.posted;
    if (!waiting_) {
      out.append("push\n");
      return Verdict::kContinue;
    }
    waiting_ = false;
    out.append(quit_after_ ? "woke, bye\n" : "woke\n");
    return quit_after_ ? Verdict::kCloseAfterFlush : Verdict::kContinue;
  }

  Clock::time_point deadline() const override {
    return waiting_ ? event_.deadline : Clock::time_point::max();
  }

  Verdict on_deadline(Buffer& out) override {
    waiting_ = false;
    out.append("timeout\n");
    return Verdict::kContinue;
  }

 private:
  Event& event_;
  LineHandler lines_;
  bool waiting_ = false;
  bool quit_after_ = false;
};

// One step of a parking case, then what the peer has received in all, and the state after it.
struct ParkStep {
  enum Kind { kSend, kEof, kWake, kSpuriousWake, kDeadline } kind;
  std::string bytes;  // kSend
  std::string received;
  bool parked;
  bool finished;
  bool held_back = false;  // the connection stopped reading: bytes are left with the peer
};

struct ParkCase {
  const char* name;
  std::vector<ParkStep> steps;
};

std::vector<ParkCase> park_cases() {
  using S = ParkStep;
  std::string flood;  // short lines, more than max_input_buffer (256) in all
  for (int i = 0; i < 50; ++i) flood += fmt::format("line{:02}\n", i);
  return {
      {"input waits until the wake, then is offered",
       {{S::kSend, "a\nwait\nb\nc\n", "a\n", true, false},
        {S::kWake, "", "a\nwoke\nb\nc\n", false, false}}},
      {"a spurious wake leaves it parked",
       {{S::kSend, "wait\nb\n", "", true, false},
        {S::kSpuriousWake, "", "", true, false},
        {S::kWake, "", "woke\nb\n", false, false}}},
      {"parks again in the pipelined input",
       {{S::kSend, "wait\nwait\nc\n", "", true, false},
        {S::kWake, "", "woke\n", true, false},
        {S::kWake, "", "woke\nwoke\nc\n", false, false}}},
      {"the handler's deadline unparks it",
       {{S::kSend, "wait\nb\n", "", true, false},
        {S::kDeadline, "", "timeout\nb\n", false, false}}},
      {"EOF while parked ends it at once",
       {{S::kSend, "wait\nb\n", "", true, false},
        {S::kEof, "", "", false, true},
        {S::kWake, "", "", false, true}}},
      {"a wake may close it (after the flush, lingering)",
       {{S::kSend, "waitq\nb\n", "", true, false},
        {S::kWake, "", "woke, bye\n", false, false},
        {S::kEof, "", "woke, bye\n", false, true}}},
      {"an unparked handler is woken too (a pushed message)",
       {{S::kSend, "a\n", "a\n", false, false},
        {S::kWake, "", "a\npush\n", false, false},
        {S::kSend, "b\n", "a\npush\nb\n", false, false}}},
      {"parked input beyond max_input_buffer is backpressure, not a close",
       {{S::kSend, "wait\n" + flood, "", true, false, true},
        {S::kWake, "", "woke\n" + flood, false, false}}},
  };
}

// Drives the connection through every step of `c` under `script`; the fake is always ready.
void run_park_case(const ParkCase& c, const Script& script) {
  SCOPED_TRACE(c.name);
  ConnectionLimits limits = small_limits();
  limits.max_input_buffer = 256;
  Peer peer;
  Event event;
  Connection connection(std::make_unique<FakeTransport>(peer, script),
                        std::make_unique<ParkingHandler>(event), limits);
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const ParkStep& step = c.steps[i];
    SCOPED_TRACE(::testing::Message() << "step " << i);
    switch (step.kind) {
      case ParkStep::kSend:
        peer.to_server += step.bytes;
        break;
      case ParkStep::kEof:
        peer.eof = true;
        break;
      case ParkStep::kWake:
        ++event.posted;
        connection.on_wake();
        break;
      case ParkStep::kSpuriousWake:
        connection.on_wake();
        break;
      case ParkStep::kDeadline:
        EXPECT_EQ(connection.deadline(), event.deadline) << "parked: the handler's deadline";
        event.deadline = Clock::now() - 1ms;
        ASSERT_LE(connection.deadline(), Clock::now());
        connection.on_timeout();
        event.deadline = Clock::time_point::max();
        break;
    }
    drive(connection, peer);
    EXPECT_EQ(peer.from_server, step.received);
    EXPECT_EQ(connection.parked(), step.parked);
    EXPECT_EQ(connection.finished(), step.finished);
    EXPECT_EQ(!peer.to_server.empty(), step.held_back);
    if (connection.parked() && !connection.finished()) {
      EXPECT_EQ(connection.deadline(), Clock::time_point::max())
          << "parked with nothing to write: no idle timeout, no timer";
      // drive() reads all it can: bytes left with the peer mean reading stopped.
      bool polls = connection.wants_read() || connection.wants_write();
      EXPECT_EQ(polls, peer.to_server.empty())
          << "reads while parked until max_input_buffer is held, then stops";
    }
  }
}

TEST_P(ConnectionOverFakeTransport, ParkAndWakeAtEveryReadWriteSize) {
  for (const ParkCase& c : park_cases()) run_park_case(c, GetParam());
}

// A parked handler whose client leaves is destroyed with its connection, leaving no waiter.
TEST(Connection, EofWhileParkedFinishesAndTheOwnerDestroysTheHandler) {
  const ConnectionLimits limits = small_limits();
  Peer peer;
  Event event;
  auto connection = std::make_unique<Connection>(std::make_unique<FakeTransport>(peer, Script{}),
                                                 std::make_unique<ParkingHandler>(event), limits);
  peer.to_server = "wait\n";
  peer.eof = true;
  drive(*connection, peer);
  EXPECT_TRUE(connection->finished());
  connection.reset();
  EXPECT_TRUE(event.destroyed);
}

// ---- how long a request may take to arrive, and a reply to leave --------------------------

// LineHandler, but a line that starts with '+' is a "body" consumed as it arrives: the request
// is unfinished until its newline. Cut by read_timeout, it answers "408\n".
class BodyLineHandler final : public ProtocolHandler {
 public:
  Step on_data(std::string_view in, Buffer& out) override {
    if (in_body_ || in.front() == '+') {
      std::size_t end = in.find('\n');
      in_body_ = end == std::string_view::npos;
      return {in_body_ ? in.size() : end + 1, Verdict::kContinue};
    }
    return lines_.on_data(in, out);
  }
  bool request_unfinished() const override { return in_body_; }
  void on_read_timeout(Buffer& out) override { out.append("408\n"); }

 private:
  LineHandler lines_;
  bool in_body_ = false;
};

struct TransferCase {
  const char* name;
  std::string input;
  bool peer_reads;  // false: every write blocks (a client that does not read)
  milliseconds read_timeout;
  milliseconds write_timeout;
  std::uint64_t min_rate;
  milliseconds expected;  // deadline() minus the time the bytes were sent
};

std::vector<TransferCase> transfer_cases() {
  const milliseconds idle = 1h;  // what deadline() is when no transfer bounds it
  return {
      {"a whole request: nothing under way", "ab\n", true, 1s, 2s, 0, idle},
      {"a partial request: read_timeout", "ab", true, 1s, 2s, 0, 1s},
      {"a request and the start of the next", "a\nb", true, 1s, 2s, 0, 1s},
      {"a body consumed in pieces is under way", "+abc", true, 1s, 2s, 0, 1s},
      {"a body's last byte ends it", "+abc\n", true, 1s, 2s, 0, idle},
      {"read_timeout 0: no bound", "ab", true, 0ms, 2s, 0, idle},
      {"min_rate: grace plus what 50 bytes bought", std::string(50, 'x'), true, 0ms, 2s, 100,
       300ms + 500ms},
      {"min_rate before read_timeout", std::string(20, 'x'), true, 1s, 2s, 100, 300ms + 200ms},
      {"unread replies at high water: write_timeout", "big 300\n", false, 1s, 2s, 0, 2s},
      {"an unread reply below high water: min_rate", "big 30\n", false, 1s, 2s, 100, 300ms},
      {"unread replies, write_timeout 0", "big 300\n", false, 1s, 0ms, 0, idle},
      {"read replies: nothing under way", "big 300\n", true, 1s, 2s, 100, idle},
  };
}

TEST(Connection, RequestsAndRepliesAreTimedFromTheirFirstByte) {
  for (const TransferCase& c : transfer_cases()) {
    SCOPED_TRACE(c.name);
    ConnectionLimits limits = small_limits();
    limits.idle_timeout = 1h;
    limits.read_timeout = c.read_timeout;
    limits.write_timeout = c.write_timeout;
    limits.min_rate = MinRate{c.min_rate, 300ms};
    Peer peer;
    peer.to_server = c.input;
    peer.writes_blocked = !c.peer_reads;
    Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                          std::make_unique<BodyLineHandler>(), limits);
    Clock::time_point before = Clock::now();
    drive(connection, peer);
    Clock::time_point after = Clock::now();
    EXPECT_GE(connection.deadline(), before + c.expected);
    EXPECT_LE(connection.deadline(), after + c.expected);
  }
}

TEST(Connection, ARequestTooSlowGetsItsAnswerAndACloseAfterTheFlush) {
  ConnectionLimits limits = small_limits();
  limits.read_timeout = 1ms;
  Peer peer;
  peer.to_server = "a\n+body still arriv";
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<BodyLineHandler>(), limits);
  drive(connection, peer);
  EXPECT_EQ(peer.from_server, "a\n");
  while (connection.deadline() > Clock::now()) {
  }
  connection.on_timeout();
  drive(connection, peer);
  EXPECT_EQ(peer.from_server, "a\n408\n");
  EXPECT_TRUE(peer.shut_down) << "closed after the flush, lingering";
}

TEST(Connection, AClientThatDoesNotReadIsClosedAtWriteTimeout) {
  ConnectionLimits limits = small_limits();
  limits.write_timeout = 1ms;
  Peer peer;
  peer.to_server = "big 300\n";
  peer.writes_blocked = true;
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<LineHandler>(), limits);
  drive(connection, peer);
  while (connection.deadline() > Clock::now()) {
  }
  connection.on_timeout();
  EXPECT_TRUE(connection.finished());
}

TEST(Connection, AParkedRequestIsNotTimedButWhatArrivesMeanwhileIsOnceUnparked) {
  ConnectionLimits limits = small_limits();
  limits.read_timeout = 1s;
  Peer peer;
  Event event;
  peer.to_server = "wait\npartial";
  Connection connection(std::make_unique<FakeTransport>(peer, Script{}),
                        std::make_unique<ParkingHandler>(event), limits);
  drive(connection, peer);
  ASSERT_TRUE(connection.parked());
  EXPECT_EQ(connection.deadline(), Clock::time_point::max());
  ++event.posted;
  Clock::time_point before = Clock::now();
  connection.on_wake();
  EXPECT_EQ(peer.from_server, "woke\n");
  EXPECT_GE(connection.deadline(), before + 1s);
  EXPECT_LE(connection.deadline(), Clock::now() + 1s);
}

// ---- over a real socketpair ----------------------------------------------------------------

struct Pair {
  int server = -1;
  int client = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    server = fds[0];
    client = fds[1];
  }
  ~Pair() { ::close(client); }  // the server end belongs to the transport
};

// Makes one kind of handler, for connections made the way listeners make them (with a slot).
template <typename Handler>
class OneHandlerFactory final : public ProtocolFactory {
 public:
  std::unique_ptr<ProtocolHandler> create(const ConnectionContext&) override {
    return std::make_unique<Handler>();
  }
};

struct TimeoutCountCase {
  const char* name;
  std::string input;
  bool peer_reads;
  bool handshake_pending;  // the transport's own deadline (an unfinished TLS handshake)
  TimeoutKind kind;
};

// Every deadline that ends a connection is counted once, by its kind, in its listener's slot;
// so are the bytes it moved and the connection itself (active until destroyed).
TEST(Connection, CountsItsTimeoutsBytesAndLifeInItsListenersSlot) {
  const TimeoutCountCase cases[] = {
      {"idle", "a\n", true, false, TimeoutKind::kIdle},
      {"read", "a\n+body still arriv", true, false, TimeoutKind::kRead},
      {"write", "big 300\n", false, false, TimeoutKind::kWrite},
      {"handshake", "", true, true, TimeoutKind::kHandshake},
  };
  init_metrics();
  OneHandlerFactory<BodyLineHandler> factory;
  for (const TimeoutCountCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::string address = std::string("connection-test:") + c.name;
    ListenerSlot* slot = listener_slot(address, "lines", "tcp");
    ConnectionLimits limits = small_limits();
    limits.idle_timeout = c.kind == TimeoutKind::kIdle ? 1ms : 1h;
    limits.read_timeout = c.kind == TimeoutKind::kRead ? 1ms : 1h;
    limits.write_timeout = c.kind == TimeoutKind::kWrite ? 1ms : 1h;
    Peer peer;
    peer.to_server = c.input;
    peer.writes_blocked = !c.peer_reads;
    if (c.handshake_pending) peer.deadline = Clock::now();
    auto figures = [&] {
      for (const ListenerFigures& l : snapshot_metrics().listeners) {
        if (l.address == address) return l;
      }
      return ListenerFigures{};
    };
    {
      Connection connection(std::make_unique<FakeTransport>(peer, Script{}), factory,
                            Connection::Origin{1, "peer", "local", slot}, nullptr, limits);
      EXPECT_EQ(figures().active, 1);
      drive(connection, peer);
      while (connection.deadline() > Clock::now()) {
      }
      connection.on_timeout();
      drive(connection, peer);
    }
    ListenerFigures after = figures();
    EXPECT_EQ(after.accepted, 1u);
    EXPECT_EQ(after.active, 0);
    for (std::size_t k = 0; k < after.timed_out.size(); ++k) {
      EXPECT_EQ(after.timed_out[k], k == static_cast<std::size_t>(c.kind) ? 1u : 0u)
          << timeout_kind_name(static_cast<TimeoutKind>(k));
    }
    EXPECT_EQ(after.bytes_received, c.input.size());
    EXPECT_EQ(after.bytes_sent, peer.from_server.size());
  }
}

// Polls the server end for what the connection wants and serves it, until it is finished or
// nothing happens for 100 ms.
void serve(Connection& connection) {
  while (!connection.finished()) {
    short events = static_cast<short>((connection.wants_read() ? POLLIN : 0) |
                                      (connection.wants_write() ? POLLOUT : 0));
    pollfd p{connection.fd(), events, 0};
    if (::poll(&p, 1, 100) <= 0) return;
    bool failed = (p.revents & (POLLERR | POLLHUP)) != 0;
    connection.on_ready(failed || (p.revents & POLLIN), failed || (p.revents & POLLOUT));
  }
}

std::string read_all(int fd) {
  std::string out;
  char chunk[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return out + "<timeout>";
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return out;
    out.append(chunk, static_cast<std::size_t>(n));
  }
}

TEST(ConnectionOverSocketpair, HalfClosedPeerGetsEveryReplyThenEof) {
  Pair pair;
  ConnectionLimits limits;
  auto connection = std::make_unique<Connection>(std::make_unique<SocketTransport>(pair.server),
                                                 std::make_unique<LineHandler>(), limits);
  std::string request = "one\nbig 200000\ntwo\n";
  ASSERT_EQ(::send(pair.client, request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
  std::string got;
  // The reply exceeds the socket buffer: serve and read in turns.
  while (!connection->finished()) {
    serve(*connection);
    char chunk[65536];
    ssize_t n;
    while ((n = ::recv(pair.client, chunk, sizeof chunk, MSG_DONTWAIT)) > 0) {
      got.append(chunk, static_cast<std::size_t>(n));
    }
  }
  connection.reset();  // closes the server end
  got += read_all(pair.client);
  EXPECT_EQ(got, "one\n" + std::string(200000, 'x') + "two\n");
}

// Between requests a keep-alive connection holds no buffer: its storage went back to the
// thread's spares (server/buffer_pool.h). A request half received keeps its bytes, and a reply
// the peer has not read keeps its output, until they are done.
TEST(ConnectionOverSocketpair, AnIdleConnectionHoldsNoBuffer) {
  Pair pair;
  ConnectionLimits limits;
  limits.output_high_water = 1 << 30;
  Connection connection(std::make_unique<SocketTransport>(pair.server),
                        std::make_unique<LineHandler>(), limits);
  auto send = [&](std::string_view bytes) {
    ASSERT_EQ(::send(pair.client, bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
    serve(connection);
  };
  auto receive = [&](std::size_t n) {
    std::string got(n, '\0');
    for (std::size_t at = 0; at < n;) {
      pollfd p{pair.client, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) return got.substr(0, at) + "<timeout>";
      ssize_t k = ::recv(pair.client, got.data() + at, n - at, 0);
      if (k <= 0) return got.substr(0, at) + "<closed>";
      at += static_cast<std::size_t>(k);
      serve(connection);
    }
    return got;
  };
  EXPECT_EQ(connection.buffer_capacity(), 0u) << "before any byte";
  send("one\ntwo\n");
  EXPECT_EQ(receive(8), "one\ntwo\n");
  EXPECT_EQ(connection.buffer_capacity(), 0u) << "after the replies went out";
  send("thr");
  EXPECT_GT(connection.buffer_capacity(), 0u) << "a partial line is kept";
  send("ee\n");
  EXPECT_EQ(receive(6), "three\n");
  EXPECT_EQ(connection.buffer_capacity(), 0u) << "and released once answered";
  send("big 4000000\n");  // more than a socketpair holds: output waits for the peer
  EXPECT_GT(connection.buffer_capacity(), 0u) << "unsent output is kept";
  EXPECT_EQ(receive(4000000), std::string(4000000, 'x'));
  EXPECT_EQ(connection.buffer_capacity(), 0u) << "and released once sent";
}

TEST(ConnectionOverSocketpair, CloseAfterFlushHalfClosesAndLingers) {
  Pair pair;
  ConnectionLimits limits;
  Connection connection(std::make_unique<SocketTransport>(pair.server),
                        std::make_unique<LineHandler>(), limits);
  std::string request = "quit\nmore input the server must discard\n";
  ASSERT_EQ(::send(pair.client, request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  serve(connection);
  EXPECT_FALSE(connection.finished()) << "lingering until the peer closes";
  EXPECT_EQ(read_all(pair.client), "bye\n") << "the reply, then EOF from the half-close";
  std::string late = "still talking\n";
  ASSERT_EQ(::send(pair.client, late.data(), late.size(), 0), static_cast<ssize_t>(late.size()));
  serve(connection);
  EXPECT_FALSE(connection.finished()) << "input is discarded while lingering";
  ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
  serve(connection);
  EXPECT_TRUE(connection.finished()) << "the peer's EOF ends the linger";
}

TEST(ConnectionOverSocketpair, ResetPeerEndsTheConnection) {
  Pair pair;
  ConnectionLimits limits;
  Connection connection(std::make_unique<SocketTransport>(pair.server),
                        std::make_unique<LineHandler>(), limits);
  ::close(pair.client);
  pair.client = ::dup(0);  // keep the destructor's close harmless
  serve(connection);
  EXPECT_TRUE(connection.finished());
}

}  // namespace
}  // namespace srv
