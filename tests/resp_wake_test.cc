// Blocking list commands and pub/sub across connections, at the handler level: several
// RespHandlers of one factory, no sockets (resp_blocking_test.cc has the one-connection reply
// tables). Each handler's waker hands out an address enrolled with a real doorbell (as one event
// loop's thread would), so a test sees exactly whom a push or a publish rang through srv::wake(),
// then drives the woken handler's on_wake()/on_deadline() as Connection would.

#include <poll.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "protocols/resp.h"
#include "server/doorbell.h"
#include "tests/resp_test_util.h"

namespace srv::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kPubsubLimit = 1024;  // the smallest pubsub_output_limit

// A waker whose address is enrolled with `doorbell` under the connection's id as the token.
class DoorbellWaker final : public Waker {
 public:
  DoorbellWaker(Doorbell& doorbell, std::uint64_t id) : doorbell_(doorbell), id_(id) {}
  WakeAddress address() override {
    if (!address_.valid()) address_ = doorbell_.enrol(id_, static_cast<int>(id_));
    return address_;
  }
  void wake(const WakeAddress& to) override { srv::wake(to); }
  void wake_all(std::span<const WakeAddress> to) override { srv::wake_all(to); }

 private:
  Doorbell& doorbell_;
  std::uint64_t id_;
  WakeAddress address_;
};

// What one call into a handler gave.
struct Result {
  std::string reply;
  Verdict verdict = Verdict::kContinue;
};

// One connection: its context (ids from 1, as the doorbell's tokens) and its handler.
class Client {
 public:
  Client(RespFactory& factory, Doorbell& doorbell, std::uint64_t id)
      : waker_(doorbell, id),
        context_{id, "127.0.0.1:50000", "127.0.0.1:7000", waker_},
        handler_(factory.create(context_)) {}

  // One whole request (inline or multibulk), which must be consumed entirely.
  Result send(std::string_view request) {
    Buffer out;
    Step step = handler_->on_data(request, out);
    EXPECT_EQ(step.consumed, request.size()) << request;
    return {std::string(out.readable()), step.verdict};
  }
  std::string ask(std::string_view line) { return send(std::string(line) + "\r\n").reply; }
  Result wake() {
    Buffer out;
    Verdict verdict = handler_->on_wake(out);
    return {std::string(out.readable()), verdict};
  }
  Result time_out() {
    Buffer out;
    Verdict verdict = handler_->on_deadline(out);
    return {std::string(out.readable()), verdict};
  }
  Clock::time_point deadline() const { return handler_->deadline(); }
  std::uint64_t id() const { return context_.id; }
  ProtocolHandler& handler() { return *handler_; }
  void disconnect() { handler_.reset(); }

 private:
  DoorbellWaker waker_;
  ConnectionContext context_;
  std::unique_ptr<ProtocolHandler> handler_;
};

class RespBlocking : public ::testing::Test {
 protected:
  RespBlocking() : factory_(settings()), doorbell_(Doorbell::Open::kNow) {}

  static RespSettings settings() {
    RespSettings s;
    s.max_memory = 4 * 1024 * 1024;
    s.pubsub_output_limit = kPubsubLimit;
    return s;
  }

  Client& client() {
    clients_.push_back(std::make_unique<Client>(factory_, doorbell_, clients_.size() + 1));
    return *clients_.back();
  }

  // The ids rung since the last call (connections are tokens = ids).
  std::set<std::uint64_t> rung() {
    std::set<std::uint64_t> ids;
    std::vector<int> tokens;
    pollfd p{doorbell_.fd(), POLLIN, 0};
    while (::poll(&p, 1, 20) == 1) {
      doorbell_.drain(tokens);
      ids.insert(tokens.begin(), tokens.end());
    }
    return ids;
  }

  // INFO's blocked_clients, read through `asker`.
  static int blocked_clients(Client& asker) {
    std::smatch match;
    std::string info = asker.ask("INFO clients");
    if (!std::regex_search(info, match, std::regex("blocked_clients:(\\d+)"))) return -1;
    return std::stoi(match[1]);
  }

  std::size_t used_memory() { return factory_.keyspace().read().memory().used; }

  RespFactory factory_;
  Doorbell doorbell_;
  std::vector<std::unique_ptr<Client>> clients_;
};

// Parks `client` on `command`: no reply, Verdict::kPark.
void expect_parks(Client& client, std::string_view command) {
  Result r = client.send(std::string(command) + "\r\n");
  EXPECT_EQ(r.reply, "") << command;
  EXPECT_EQ(r.verdict, Verdict::kPark) << command;
}

// ---------------------------------------------------------------------------------------------
// One client blocks, another pushes: each blocking command is served as its command says.

struct ServeCase {
  const char* name;
  std::vector<std::string> setup;  // run by the pusher first
  std::string block;               // the waiter's command: parks
  std::vector<std::string> push;   // the pusher's commands
  std::string push_replies;        // their replies
  std::string served;              // what the waiter's on_wake() writes
  std::vector<std::string> after;  // then the pusher checks the keyspace
  std::string after_replies;
};

std::string lrange(std::string_view key) {
  return "LRANGE " + std::string(key) + " 0 -1";
}

const ServeCase kServeCases[] = {
    {"BlpopFromTheHead",
     {},
     "BLPOP l 0",
     {"RPUSH l a b"},
     integer(2),
     bulks({"l", "a"}),
     {lrange("l")},
     bulks({"b"})},
    {"BrpopFromTheTail",
     {},
     "BRPOP l 0",
     {"RPUSH l a b"},
     integer(2),
     bulks({"l", "b"}),
     {lrange("l")},
     bulks({"a"})},
    {"BlpopLastElementDeletesTheKey",
     {},
     "BLPOP l 0",
     {"LPUSH l a"},
     integer(1),
     bulks({"l", "a"}),
     {"EXISTS l"},
     integer(0)},
    // Served by the second key; the first no longer holds the client.
    {"BlpopSeveralKeys",
     {},
     "BLPOP a b 0",
     {"RPUSH b x", "RPUSH a y"},
     integer(1) + integer(1),
     bulks({"b", "x"}),
     {lrange("a"), "EXISTS b"},
     bulks({"y"}) + integer(0)},
    {"BlpopServedByAMoveIntoTheKey",
     {"RPUSH s z"},
     "BLPOP l 0",
     {"LMOVE s l LEFT LEFT"},
     bulk("z"),
     bulks({"l", "z"}),
     {"EXISTS l s"},
     integer(0)},
    {"BlmoveLeftRight",
     {"RPUSH dst d"},
     "BLMOVE src dst LEFT RIGHT 0",
     {"RPUSH src a b"},
     integer(2),
     bulk("a"),
     {lrange("src"), lrange("dst")},
     bulks({"b"}) + bulks({"d", "a"})},
    {"BlmoveRightLeft",
     {},
     "BLMOVE src dst RIGHT LEFT 0",
     {"RPUSH src a b"},
     integer(2),
     bulk("b"),
     {lrange("src"), lrange("dst")},
     bulks({"a"}) + bulks({"b"})},
    {"BlmoveOntoItself",
     {},
     "BLMOVE l l LEFT RIGHT 0",
     {"RPUSH l a b"},
     integer(2),
     bulk("a"),
     {lrange("l")},
     bulks({"b", "a"})},
    {"Brpoplpush",
     {},
     "BRPOPLPUSH src dst 0",
     {"RPUSH src a b"},
     integer(2),
     bulk("b"),
     {lrange("src"), lrange("dst")},
     bulks({"a"}) + bulks({"b"})},
    {"BlmpopCountLeft",
     {},
     "BLMPOP 0 2 x l LEFT COUNT 2",
     {"RPUSH l a b c"},
     integer(3),
     array({bulk("l"), bulks({"a", "b"})}),
     {lrange("l")},
     bulks({"c"})},
    {"BlmpopCountPastTheEndRight",
     {},
     "BLMPOP 0 1 l RIGHT COUNT 5",
     {"RPUSH l a b"},
     integer(2),
     array({bulk("l"), bulks({"b", "a"})}),
     {"EXISTS l"},
     integer(0)},
    {"BlmpopWithoutCount",
     {},
     "BLMPOP 0 1 l LEFT",
     {"RPUSH l a b"},
     integer(2),
     array({bulk("l"), bulks({"a"})}),
     {lrange("l")},
     bulks({"b"})},
    // A wrong-type destination: the waiter gets the error and the element stays (Redis 7.0).
    {"BlmoveWrongTypeDestination",
     {"SET dst v"},
     "BLMOVE src dst LEFT LEFT 0",
     {"RPUSH src a"},
     integer(1),
     kWrongType,
     {lrange("src"), "GET dst"},
     bulks({"a"}) + bulk("v")},
};

class RespBlockingServe : public RespBlocking, public ::testing::WithParamInterface<ServeCase> {};

TEST_P(RespBlockingServe, PushServesTheWaiterThroughItsMailbox) {
  const ServeCase& c = GetParam();
  Client& waiter = client();
  Client& pusher = client();
  for (const std::string& command : c.setup) pusher.ask(command);
  expect_parks(waiter, c.block);
  EXPECT_EQ(blocked_clients(pusher), 1);
  EXPECT_EQ(rung(), std::set<std::uint64_t>{});

  std::string replies;
  for (const std::string& command : c.push) replies += pusher.ask(command);
  EXPECT_EQ(replies, c.push_replies);
  EXPECT_EQ(rung(), std::set<std::uint64_t>{waiter.id()});
  EXPECT_EQ(blocked_clients(pusher), 0);

  Result served = waiter.wake();
  EXPECT_EQ(served.reply, c.served);
  EXPECT_EQ(served.verdict, Verdict::kContinue);
  EXPECT_EQ(waiter.deadline(), Clock::time_point::max());
  replies.clear();
  for (const std::string& command : c.after) replies += pusher.ask(command);
  EXPECT_EQ(replies, c.after_replies);
  // Served once: a spurious wake writes nothing more.
  EXPECT_EQ(waiter.wake().reply, "");
}

INSTANTIATE_TEST_SUITE_P(Resp, RespBlockingServe, ::testing::ValuesIn(kServeCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// A push that finds the key non-empty but no list (a string SET over it) wakes nobody.
TEST_F(RespBlocking, WritesThatAreNotPushesWakeNobody) {
  Client& waiter = client();
  Client& other = client();
  expect_parks(waiter, "BLPOP l 0");
  EXPECT_EQ(other.ask("SET l v"), kOk);
  EXPECT_EQ(other.ask("RPUSH elsewhere a"), integer(1));
  EXPECT_EQ(rung(), std::set<std::uint64_t>{});
  EXPECT_EQ(blocked_clients(other), 1);
  Result spurious = waiter.wake();
  EXPECT_EQ(spurious.reply, "");
  EXPECT_EQ(spurious.verdict, Verdict::kPark);
}

// ---------------------------------------------------------------------------------------------
// Fairness: waiters on one key are served in the order they blocked, not by id.

struct FairnessCase {
  const char* name;
  std::vector<int> block_order;  // indexes of the three waiters, in the order they block
};

const FairnessCase kFairnessCases[] = {
    {"InIdOrder", {0, 1, 2}},
    {"Reversed", {2, 1, 0}},
    {"Mixed", {1, 2, 0}},
};

class RespBlockingFairness : public RespBlocking,
                             public ::testing::WithParamInterface<FairnessCase> {};

TEST_P(RespBlockingFairness, FirstBlockedFirstServed) {
  std::vector<Client*> waiters = {&client(), &client(), &client()};
  Client& pusher = client();
  for (int i : GetParam().block_order) expect_parks(*waiters[i], "BLPOP l 0");
  EXPECT_EQ(blocked_clients(pusher), 3);

  // Two elements: the first two to block get them, in order; the third keeps waiting.
  EXPECT_EQ(pusher.ask("RPUSH l e1 e2"), integer(2));
  Client& first = *waiters[GetParam().block_order[0]];
  Client& second = *waiters[GetParam().block_order[1]];
  Client& third = *waiters[GetParam().block_order[2]];
  EXPECT_EQ(rung(), (std::set<std::uint64_t>{first.id(), second.id()}));
  EXPECT_EQ(first.wake().reply, bulks({"l", "e1"}));
  EXPECT_EQ(second.wake().reply, bulks({"l", "e2"}));
  EXPECT_EQ(blocked_clients(pusher), 1);
  EXPECT_EQ(third.wake().verdict, Verdict::kPark);

  EXPECT_EQ(pusher.ask("LPUSH l e3"), integer(1));
  EXPECT_EQ(rung(), std::set<std::uint64_t>{third.id()});
  Result last = third.wake();
  EXPECT_EQ(last.reply, bulks({"l", "e3"}));
  EXPECT_EQ(last.verdict, Verdict::kContinue);
  EXPECT_EQ(blocked_clients(pusher), 0);
}

INSTANTIATE_TEST_SUITE_P(Resp, RespBlockingFairness, ::testing::ValuesIn(kFairnessCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// ---------------------------------------------------------------------------------------------
// Chains and edge cases of serving

// BLMOVE's push to its destination serves the destination's own waiter in the same command.
TEST_F(RespBlocking, BlmoveIntoAKeyWithItsOwnWaiterServesBoth) {
  Client& mover = client();
  Client& popper = client();
  Client& pusher = client();
  expect_parks(mover, "BLMOVE src dst RIGHT LEFT 0");
  expect_parks(popper, "BLPOP dst 0");
  EXPECT_EQ(pusher.ask("RPUSH src x"), integer(1));
  EXPECT_EQ(rung(), (std::set<std::uint64_t>{mover.id(), popper.id()}));
  EXPECT_EQ(mover.wake().reply, bulk("x"));
  EXPECT_EQ(popper.wake().reply, bulks({"dst", "x"}));
  EXPECT_EQ(pusher.ask("EXISTS src dst"), integer(0));
  EXPECT_EQ(blocked_clients(pusher), 0);
}

// Two BLMOVEs in a cycle: the element goes round once and stops with nobody left waiting.
TEST_F(RespBlocking, BlmoveCycleEnds) {
  Client& a = client();
  Client& b = client();
  Client& pusher = client();
  expect_parks(a, "BLMOVE x y LEFT LEFT 0");
  expect_parks(b, "BLMOVE y x LEFT LEFT 0");
  EXPECT_EQ(pusher.ask("RPUSH x e"), integer(1));
  EXPECT_EQ(a.wake().reply, bulk("e"));
  EXPECT_EQ(b.wake().reply, bulk("e"));
  EXPECT_EQ(pusher.ask(lrange("x")), bulks({"e"}));
  EXPECT_EQ(pusher.ask("EXISTS y"), integer(0));
  EXPECT_EQ(blocked_clients(pusher), 0);
}

// Commands pipelined behind a BLPOP stay unread until it is served.
TEST_F(RespBlocking, InputBehindABlockedCommandWaits) {
  Client& waiter = client();
  Client& pusher = client();
  std::string request = cmd({"BLPOP", "l", "0"});
  Buffer out;
  Step step = waiter.handler().on_data(request + cmd({"PING"}), out);
  EXPECT_EQ(step.consumed, request.size());
  EXPECT_EQ(step.verdict, Verdict::kPark);
  pusher.ask("RPUSH l a");
  EXPECT_EQ(waiter.wake().reply, bulks({"l", "a"}));
  EXPECT_EQ(waiter.send(cmd({"PING"})).reply, "+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// Timeouts

struct TimeoutCase {
  const char* name;
  std::string timeout;
  std::chrono::milliseconds expected;  // the deadline from now; 0: none (blocks for ever)
};

const TimeoutCase kTimeoutCases[] = {
    {"Zero", "0", 0ms},          {"ZeroPointZero", "0.0", 0ms},
    {"Fraction", "0.25", 250ms}, {"RoundedUpToAMillisecond", "0.0001", 1ms},
    {"Seconds", "2", 2000ms},    {"Exponent", "1.5e0", 1500ms},
};

class RespBlockingTimeout : public RespBlocking,
                            public ::testing::WithParamInterface<TimeoutCase> {};

TEST_P(RespBlockingTimeout, DeadlineFollowsTheTimeout) {
  const TimeoutCase& c = GetParam();
  for (std::string_view command :
       {"BLPOP l ", "BRPOP l ", "BLMPOP ", "BLMOVE l d LEFT LEFT ", "BRPOPLPUSH l d "}) {
    Client& waiter = client();
    std::string line = std::string(command) + c.timeout;
    if (command == "BLMPOP ") line += " 1 l LEFT";
    Clock::time_point before = Clock::now();
    expect_parks(waiter, line);
    Clock::time_point after = Clock::now();
    if (c.expected == 0ms) {
      EXPECT_EQ(waiter.deadline(), Clock::time_point::max()) << line;
    } else {
      EXPECT_GE(waiter.deadline(), before + c.expected) << line;
      EXPECT_LE(waiter.deadline(), after + c.expected) << line;
    }
    waiter.disconnect();
  }
}

INSTANTIATE_TEST_SUITE_P(Resp, RespBlockingTimeout, ::testing::ValuesIn(kTimeoutCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(RespBlocking, BadTimeoutsAreRefusedWithoutBlocking) {
  Client& c = client();
  const std::string kNotFloat = err("ERR timeout is not a float or out of range");
  EXPECT_EQ(c.ask("BLPOP l -1"), err("ERR timeout is negative"));
  EXPECT_EQ(c.ask("BLPOP l abc"), kNotFloat);
  EXPECT_EQ(c.ask("BRPOP l 1x"), kNotFloat);
  EXPECT_EQ(c.ask("BLMOVE a b LEFT LEFT nan"), kNotFloat);
  EXPECT_EQ(c.ask("BLMPOP -0.5 1 l LEFT"), err("ERR timeout is negative"));
  EXPECT_EQ(blocked_clients(c), 0);
}

// The deadline passes: nil, unparked, nothing left waiting; a later push keeps its element.
TEST_F(RespBlocking, DeadlineAnswersNilAndLeavesNoWaiter) {
  for (std::string_view command : {"BLPOP l 0.05", "BRPOP l 0.05", "BLMPOP 0.05 1 l LEFT",
                                   "BLMOVE l d LEFT LEFT 0.05", "BRPOPLPUSH l d 0.05"}) {
    Client& waiter = client();
    Client& pusher = client();
    expect_parks(waiter, command);
    // Redis answers a null array for every blocking list command, BLMOVE too.
    Result r = waiter.time_out();
    EXPECT_EQ(r.reply, kNilArray) << command;
    EXPECT_EQ(r.verdict, Verdict::kContinue) << command;
    EXPECT_EQ(waiter.deadline(), Clock::time_point::max()) << command;
    EXPECT_EQ(blocked_clients(pusher), 0) << command;
    EXPECT_EQ(pusher.ask("RPUSH l a"), integer(1)) << command;
    EXPECT_EQ(rung(), std::set<std::uint64_t>{}) << command;
    EXPECT_EQ(pusher.ask("LPOP l"), bulk("a")) << command;
  }
}

// Served between the deadline passing and the handler's on_deadline(): the element, not nil.
TEST_F(RespBlocking, ServedJustBeforeTheDeadlineGivesTheElement) {
  Client& waiter = client();
  Client& pusher = client();
  expect_parks(waiter, "BLPOP l 0.01");
  EXPECT_EQ(pusher.ask("RPUSH l a"), integer(1));
  Result r = waiter.time_out();
  EXPECT_EQ(r.reply, bulks({"l", "a"}));
  EXPECT_EQ(r.verdict, Verdict::kContinue);
  EXPECT_EQ(waiter.wake().reply, "");  // the ring that follows finds nothing more
  EXPECT_EQ(pusher.ask("EXISTS l"), integer(0));
}

// ---------------------------------------------------------------------------------------------
// A blocked client that goes away

TEST_F(RespBlocking, DisconnectingLeavesNoWaiterAndTheElementForTheNext) {
  Client& gone = client();
  Client& next = client();
  Client& pusher = client();
  expect_parks(gone, "BLPOP l 0");
  expect_parks(next, "BRPOP l 0");
  EXPECT_EQ(blocked_clients(pusher), 2);
  gone.disconnect();
  EXPECT_EQ(blocked_clients(pusher), 1);
  EXPECT_EQ(pusher.ask("RPUSH l a"), integer(1));
  EXPECT_EQ(rung(), std::set<std::uint64_t>{next.id()});
  EXPECT_EQ(next.wake().reply, bulks({"l", "a"}));
  next.disconnect();
  EXPECT_EQ(blocked_clients(pusher), 0);
  EXPECT_EQ(pusher.ask("RPUSH l b"), integer(1));
  EXPECT_EQ(pusher.ask(lrange("l")), bulks({"b"}));
}

// ---------------------------------------------------------------------------------------------
// CLIENT UNBLOCK

struct UnblockCase {
  const char* name;
  std::string reason;  // appended to CLIENT UNBLOCK <id>
  std::string reply;   // CLIENT UNBLOCK's reply
  std::string woken;   // what the blocked client gets
};

const UnblockCase kUnblockCases[] = {
    {"Default", "", integer(1), kNilArray},
    {"Timeout", " TIMEOUT", integer(1), kNilArray},
    {"TimeoutAnyCase", " timeout", integer(1), kNilArray},
    {"Error", " ERROR", integer(1), err("UNBLOCKED client unblocked via CLIENT UNBLOCK")},
    {"BadReason", " LATER", err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"), ""},
    {"TooManyArguments", " TIMEOUT x",
     err("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."),
     ""},
};

class RespBlockingUnblock : public RespBlocking,
                            public ::testing::WithParamInterface<UnblockCase> {};

TEST_P(RespBlockingUnblock, UnblocksWithTheReasonsReply) {
  const UnblockCase& c = GetParam();
  Client& waiter = client();
  Client& other = client();
  std::string id = waiter.ask("CLIENT ID").substr(1);
  id.resize(id.size() - 2);
  expect_parks(waiter, "BLPOP l 0");
  EXPECT_EQ(other.ask("CLIENT UNBLOCK " + id + c.reason), c.reply);
  if (c.woken.empty()) {
    EXPECT_EQ(rung(), std::set<std::uint64_t>{});
    EXPECT_EQ(blocked_clients(other), 1);
    return;
  }
  EXPECT_EQ(rung(), std::set<std::uint64_t>{waiter.id()});
  EXPECT_EQ(blocked_clients(other), 0);
  Result r = waiter.wake();
  EXPECT_EQ(r.reply, c.woken);
  EXPECT_EQ(r.verdict, Verdict::kContinue);
  // Not blocked any more: a second CLIENT UNBLOCK finds nothing, a push keeps its element.
  EXPECT_EQ(other.ask("CLIENT UNBLOCK " + id), integer(0));
  EXPECT_EQ(other.ask("RPUSH l a"), integer(1));
  EXPECT_EQ(other.ask("LLEN l"), integer(1));
}

INSTANTIATE_TEST_SUITE_P(Resp, RespBlockingUnblock, ::testing::ValuesIn(kUnblockCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(RespBlocking, UnblockOfAClientNotBlockedIsZero) {
  Client& c = client();
  Client& idle = client();
  std::string id = idle.ask("CLIENT ID").substr(1);
  id.resize(id.size() - 2);
  EXPECT_EQ(c.ask("CLIENT UNBLOCK " + id), integer(0));
  EXPECT_EQ(c.ask("CLIENT UNBLOCK 999999"), integer(0));
  EXPECT_EQ(c.ask("CLIENT UNBLOCK 0"), integer(0));
  EXPECT_EQ(c.ask("CLIENT UNBLOCK x"), kNotInteger);
  EXPECT_EQ(c.ask("CLIENT UNBLOCK x TIMEOUT y"),
            err("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT "
                "HELP."));
}

// ---------------------------------------------------------------------------------------------
// Pub/sub

std::string message(std::string_view channel, std::string_view text) {
  return bulks({"message", channel, text});
}
std::string pmessage(std::string_view pattern, std::string_view channel, std::string_view text) {
  return bulks({"pmessage", pattern, channel, text});
}

struct PublishCase {
  const char* name;
  std::vector<std::string> subscriptions;  // one SUBSCRIBE/PSUBSCRIBE line per subscriber
  std::string publish;                     // the PUBLISH line
  int receivers;                           // PUBLISH's reply
  std::vector<std::string> delivered;      // what each subscriber's on_wake() writes
};

const PublishCase kPublishCases[] = {
    {"NoSubscriber", {"SUBSCRIBE other"}, "PUBLISH ch hi", 0, {""}},
    {"OneChannel", {"SUBSCRIBE ch"}, "PUBLISH ch hi", 1, {message("ch", "hi")}},
    {"ThreeSubscribers",
     {"SUBSCRIBE ch", "SUBSCRIBE a ch b", "SUBSCRIBE ch"},
     "PUBLISH ch hello",
     3,
     {message("ch", "hello"), message("ch", "hello"), message("ch", "hello")}},
    {"Pattern", {"PSUBSCRIBE c*"}, "PUBLISH ch x", 1, {pmessage("c*", "ch", "x")}},
    {"PatternNotMatching", {"PSUBSCRIBE d*"}, "PUBLISH ch x", 0, {""}},
    // A client with the channel and a matching pattern gets (and counts) each: channel first.
    {"ChannelAndPatternOfOneClient",
     {"SUBSCRIBE ch", "PSUBSCRIBE c?", "SUBSCRIBE ch\r\nPSUBSCRIBE *"},
     "PUBLISH ch m",
     4,
     {message("ch", "m"), pmessage("c?", "ch", "m"),
      message("ch", "m") + pmessage("*", "ch", "m")}},
    {"BinaryMessage",
     {"SUBSCRIBE ch"},
     cmd({"PUBLISH", "ch", std::string("a\r\n\0b", 5)}),
     1,
     {message("ch", std::string("a\r\n\0b", 5))}},
};

class RespPublish : public RespBlocking, public ::testing::WithParamInterface<PublishCase> {};

TEST_P(RespPublish, ReachesEverySubscriberWithItsFraming) {
  const PublishCase& c = GetParam();
  std::vector<Client*> subscribers;
  for (const std::string& line : c.subscriptions) {
    Client& s = client();
    Result r = s.send(line + "\r\n");
    EXPECT_EQ(r.verdict, Verdict::kContinue) << line;  // subscribers are not parked
    subscribers.push_back(&s);
  }
  Client& publisher = client();
  std::string request = c.publish.starts_with("*") ? c.publish : c.publish + "\r\n";
  EXPECT_EQ(publisher.send(request).reply, integer(c.receivers));
  std::set<std::uint64_t> expected_rung;
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    if (!c.delivered[i].empty()) expected_rung.insert(subscribers[i]->id());
  }
  EXPECT_EQ(rung(), expected_rung);
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    Result r = subscribers[i]->wake();
    EXPECT_EQ(r.reply, c.delivered[i]) << i;
    EXPECT_EQ(r.verdict, Verdict::kContinue) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Resp, RespPublish, ::testing::ValuesIn(kPublishCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// Messages published while a subscriber has not been woken yet are all delivered, in order.
TEST_F(RespBlocking, MessagesWaitInTheMailboxInOrder) {
  Client& sub = client();
  Client& publisher = client();
  sub.ask("SUBSCRIBE ch");
  std::string expected;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(publisher.ask("PUBLISH ch m" + std::to_string(i)), integer(1));
    expected += message("ch", "m" + std::to_string(i));
  }
  EXPECT_EQ(sub.wake().reply, expected);
  EXPECT_EQ(sub.wake().reply, "");
}

// A subscriber that disconnects is no longer counted, nor its channel listed.
TEST_F(RespBlocking, DisconnectedSubscriberIsForgotten) {
  Client& sub = client();
  Client& publisher = client();
  sub.ask("SUBSCRIBE ch");
  sub.ask("PSUBSCRIBE c*");
  EXPECT_EQ(publisher.ask("PUBSUB NUMSUB ch"), array({bulk("ch"), integer(1)}));
  sub.disconnect();
  EXPECT_EQ(publisher.ask("PUBLISH ch x"), integer(0));
  EXPECT_EQ(publisher.ask("PUBSUB NUMSUB ch"), array({bulk("ch"), integer(0)}));
  EXPECT_EQ(publisher.ask("PUBSUB NUMPAT"), integer(0));
  EXPECT_EQ(publisher.ask("PUBSUB CHANNELS"), kEmptyArray);
}

// The limit: whichever fills first, the mailbox (never woken) or the connection's unsent output
// (woken, but the client does not read), a subscriber past pubsub_output_limit is closed.
struct CutCase {
  const char* name;
  std::size_t message_bytes;
  int messages;
  bool wake_between;  // on_wake() after each PUBLISH, into output nobody sends
  Verdict verdict;    // what the last on_wake() says
};

const CutCase kCutCases[] = {
    {"MailboxUnderTheLimit", 100, 5, false, Verdict::kContinue},
    {"MailboxPastTheLimit", 100, 20, false, Verdict::kCloseNow},
    {"OneMessageLargerThanTheLimit", 2000, 1, false, Verdict::kCloseNow},
    {"OutputUnderTheLimit", 100, 5, true, Verdict::kContinue},
    {"UnsentOutputPastTheLimit", 100, 20, true, Verdict::kCloseNow},
};

class RespPubsubCut : public RespBlocking, public ::testing::WithParamInterface<CutCase> {};

TEST_P(RespPubsubCut, SubscriberPastTheLimitIsClosedAndItsMailboxFreed) {
  const CutCase& c = GetParam();
  Client& sub = client();
  Client& publisher = client();
  sub.ask("SUBSCRIBE ch");
  const std::size_t used_before = used_memory();
  const std::string text(c.message_bytes, 'm');
  Buffer unsent;
  Verdict verdict = Verdict::kContinue;
  for (int i = 0; i < c.messages && verdict == Verdict::kContinue; ++i) {
    EXPECT_EQ(publisher.send(cmd({"PUBLISH", "ch", text})).reply, integer(1));
    if (c.wake_between) verdict = sub.handler().on_wake(unsent);
  }
  if (!c.wake_between) verdict = sub.handler().on_wake(unsent);
  EXPECT_EQ(verdict, c.verdict);
  if (c.verdict == Verdict::kCloseNow) {
    // The cut mailbox gave its memory back at once, before the connection even closed.
    EXPECT_LE(used_memory(), used_before + 256);
    EXPECT_LE(unsent.size(), kPubsubLimit + c.message_bytes + 64);
    sub.disconnect();  // as the connection does on kCloseNow
    EXPECT_EQ(publisher.ask("PUBLISH ch x"), integer(0));
    EXPECT_EQ(publisher.ask("PUBSUB NUMSUB ch"), array({bulk("ch"), integer(0)}));
  } else {
    EXPECT_EQ(unsent.size(), static_cast<std::size_t>(c.messages) * message("ch", text).size());
  }
}

INSTANTIATE_TEST_SUITE_P(Resp, RespPubsubCut, ::testing::ValuesIn(kCutCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace srv::test
