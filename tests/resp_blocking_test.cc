// Reply tables for the blocking list commands on the paths where nothing has to wake them (an
// element is there, or the arguments are wrong) and for pub/sub on one connection. Expected
// replies are Redis 7.0.15's (resp_test.cc runs them through the handler and against a
// redis-server). A case marked parks() ends in a command that blocks: srv must park there and
// Redis must answer nothing more. What a second connection sees (a served waiter, a published
// message) is in the Tcl suite (tests/redis-suite/, unit/type/list and unit/pubsub).

#include <string>
#include <vector>

#include "tests/resp_cases.h"
#include "tests/resp_test_util.h"

namespace srv::test {
namespace {

const std::string kNotFloat = err("ERR timeout is not a float or out of range");
const std::string kNegative = err("ERR timeout is negative");
const std::string kNumkeys = err("ERR numkeys should be greater than 0");
const std::string kCount = err("ERR count should be greater than 0");

// [key, element], as BLPOP/BRPOP reply.
std::string popped(std::string_view key, std::string_view element) {
  return bulks({key, element});
}

// The reply to a (P)(UN)SUBSCRIBE for one name (or none: nil), with the subscriptions left.
std::string subscription(std::string_view verb, std::string_view name, std::int64_t count) {
  return array({bulk(verb), bulk(name), integer(count)});
}
std::string subscription_nil(std::string_view verb, std::int64_t count) {
  return array({bulk(verb), kNil, integer(count)});
}

std::string refused(std::string_view command) {
  return err("ERR Can't execute '" + std::string(command) +
             "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
             "this context");
}

}  // namespace

std::vector<RespCase> blocking_cases() {
  const std::string long_timeout = "0.5" + std::string(5116, '0');  // 5119 bytes
  const std::string too_long_timeout = long_timeout + "0";          // 5120: Redis refuses
  return {
      {"BlpopBrpopPopAtOnce",
       lines({"RPUSH l a b c", "BLPOP l 0", "BRPOP l 0", "BLPOP nokey l 1", "EXISTS l",
              "RPUSH l2 x", "BRPOP l l2 0", "RPUSH l y", "BLPOP l l 0"}),
       integer(3) + popped("l", "a") + popped("l", "c") + popped("l", "b") + integer(0) +
           integer(1) + popped("l2", "x") + integer(1) + popped("l", "y")},
      // The first key that exists decides: a list is popped, anything else is WRONGTYPE.
      {"BlpopWrongType",
       lines({"SET s v", "RPUSH l a", "BLPOP s 0", "BRPOP nokey s l 0", "BLPOP nokey l s 0",
              "GET s"}),
       kOk + integer(1) + kWrongType + kWrongType + popped("l", "a") + bulk("v")},
      // The timeout is parsed (as Redis 7.0's long double, milliseconds rounded up) before any
      // key is looked at. Redis 7.0 converts an out-of-range count of milliseconds to LLONG_MIN,
      // hence "negative" for inf and 1e30.
      {"BlockingTimeoutErrors",
       lines({"SET s v", "BLPOP s x", "BLPOP l x", "BLPOP l -1", "BRPOP l -0.5", "BLPOP l 1x",
              "BLPOP l nan", "BLPOP l 1e5000", "BLPOP l 1e-5000", "BLPOP l inf", "BLPOP l -inf",
              "BLPOP l 1e30", "BLPOP l 9223372036854775807"}) +
           cmd({"BLPOP", "l", ""}) + cmd({"BLPOP", "l", " 1"}) + cmd({"BLPOP", "l", "1 "}) +
           cmd({"BLPOP", "l", std::string_view("1\0", 2)}) + cmd({"BLPOP", "l", too_long_timeout}),
       kOk + kNotFloat + kNotFloat + kNegative + kNegative + kNotFloat + kNotFloat + kNotFloat +
           kNotFloat + kNegative + kNegative + kNegative + kNegative + repeat(kNotFloat, 5)},
      // Timeouts Redis accepts: a tiny negative one rounds up to 0, a denormal one is not a range
      // error, hexadecimal and exponents parse, 5119 bytes is not too long.
      {"BlockingTimeoutsAccepted",
       lines({"RPUSH l a b c d e f", "BLPOP l -0.0001", "BLPOP l 1e-4940", "BLPOP l 0x10",
              "BLPOP l 1.5e1", "BLPOP l 9223372036854"}) +
           cmd({"BLPOP", "l", long_timeout}),
       integer(6) + popped("l", "a") + popped("l", "b") + popped("l", "c") + popped("l", "d") +
           popped("l", "e") + popped("l", "f")},
      {"BlockingArity",
       lines({"BLPOP l", "BLPOP", "BRPOP l", "BLMOVE a b LEFT LEFT", "BLMOVE a b LEFT LEFT 0 x",
              "BRPOPLPUSH a b", "BRPOPLPUSH a b 0 x", "BLMPOP 0 1 a", "BLMPOP 0"}),
       arity("blpop") + arity("blpop") + arity("brpop") + arity("blmove") + arity("blmove") +
           arity("brpoplpush") + arity("brpoplpush") + arity("blmpop") + arity("blmpop")},
      {"BlmoveBrpoplpushMoveAtOnce",
       lines({"RPUSH src a b c", "BLMOVE src dst LEFT RIGHT 0", "BLMOVE src dst right left 1",
              "BRPOPLPUSH src dst 0", "EXISTS src", "LRANGE dst 0 -1",
              "BLMOVE dst dst LEFT RIGHT 0", "BRPOPLPUSH dst dst 0", "LRANGE dst 0 -1"}),
       integer(3) + bulk("a") + bulk("c") + bulk("b") + integer(0) + bulks({"b", "c", "a"}) +
           bulk("b") + bulk("b") + bulks({"b", "c", "a"})},
      // Directions are checked before the timeout, the timeout before the keys; a wrong-typed
      // destination leaves the source as it was.
      {"BlmoveBrpoplpushErrors",
       lines({"SET s v", "RPUSH l a", "BLMOVE l s LEFT LEFT 0", "BRPOPLPUSH l s 0",
              "BLMOVE s l LEFT LEFT 0", "BRPOPLPUSH s l 0", "LRANGE l 0 -1", "BLMOVE l d UP LEFT x",
              "BLMOVE l d LEFT DOWN x", "BLMOVE l d LEFT LEFT x", "BLMOVE l d LEFT LEFT -1",
              "BRPOPLPUSH l d x", "BRPOPLPUSH l d -1", "BLMOVE s l UP LEFT 0"}),
       kOk + integer(1) + kWrongType + kWrongType + kWrongType + kWrongType + bulks({"a"}) +
           kSyntax + kSyntax + kNotFloat + kNegative + kNotFloat + kNegative + kSyntax},
      {"BlmpopPopsAtOnce",
       lines({"RPUSH b 1 2 3 4", "RPUSH c x", "BLMPOP 0 3 a b c LEFT",
              "BLMPOP 1 3 a b c RIGHT COUNT 2", "BLMPOP 0 2 b c left count 10", "EXISTS b",
              "BLMPOP 0.1 2 b c Right COUNT 1"}),
       integer(4) + integer(1) + array({bulk("b"), bulks({"1"})}) +
           array({bulk("b"), bulks({"4", "3"})}) + array({bulk("b"), bulks({"2"})}) + integer(0) +
           array({bulk("c"), bulks({"x"})})},
      {"BlmpopWrongType",
       lines({"SET s v", "RPUSH l a", "BLMPOP 0 2 s l LEFT", "BLMPOP 0 2 l s LEFT",
              "BLMPOP 0 2 nokey s LEFT"}),
       kOk + integer(1) + kWrongType + array({bulk("l"), bulks({"a"})}) + kWrongType},
      // numkeys, the direction and COUNT are checked before the timeout (Redis's lmpopGeneric).
      {"BlmpopErrors",
       lines({"BLMPOP 0 0 a LEFT", "BLMPOP 0 -1 a LEFT", "BLMPOP 0 x a LEFT", "BLMPOP 0 2 a LEFT",
              "BLMPOP 0 1 a MIDDLE", "BLMPOP 0 1 a LEFT COUNT 0", "BLMPOP 0 1 a LEFT COUNT x",
              "BLMPOP 0 1 a LEFT COUNT", "BLMPOP 0 1 a LEFT COUNT 1 COUNT 1", "BLMPOP 0 1 a LEFT X",
              "BLMPOP x 0 a LEFT", "BLMPOP -1 x a LEFT", "BLMPOP x 2 a LEFT", "BLMPOP x 1 a MIDDLE",
              "BLMPOP x 1 a LEFT COUNT 0", "BLMPOP x 1 a LEFT", "BLMPOP -1 1 a LEFT"}),
       repeat(kNumkeys, 3) + kSyntax + kSyntax + repeat(kCount, 2) + repeat(kSyntax, 3) +
           repeat(kNumkeys, 2) + kSyntax + kSyntax + kCount + kNotFloat + kNegative},
      // The reason is checked before the id; ids of no blocked client answer 0.
      {"ClientUnblock",
       lines({"CLIENT UNBLOCK 999999", "CLIENT UNBLOCK 999999 TIMEOUT",
              "CLIENT UNBLOCK 999999 error", "CLIENT UNBLOCK 0", "CLIENT UNBLOCK -1",
              "CLIENT UNBLOCK x", "CLIENT UNBLOCK 1 foo", "CLIENT UNBLOCK x foo",
              "CLIENT UNBLOCK 1 TIMEOUT x", "client unblock 1 timeout x", "CLIENT UNBLOCK"}),
       integer(0) + integer(0) + integer(0) + integer(0) + integer(0) + kNotInteger +
           repeat(err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"), 2) +
           err("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT "
               "HELP.") +
           err("ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT "
               "HELP.") +
           arity("client|unblock")},
      parks({"BlpopParksOnNothing", lines({"RPUSH other a", "BLPOP nokey 0"}), integer(1)}),
      parks({"BrpopParksOnEveryMissingKey", cmd({"BRPOP", "a", "b", "c", "0.5"}), ""}),
      // Rounded up to 0: no timeout at all.
      parks({"BlpopParksForeverOnTinyNegativeTimeout", cmd({"BLPOP", "nokey", "-0.0001"}), ""}),
      // 292,000 years: past what a steady_clock time point holds, but a deadline all the same.
      parks({"BlpopParksOnHugeTimeout", cmd({"BLPOP", "nokey", "9223372036854"}), ""}),
      // Redis 7.0 adds the time to this many milliseconds, wraps past int64 into a deadline
      // its timer never reaches, and blocks for ever (7.2 says "timeout is out of range").
      parks({"BlpopParksWhenTheDeadlineWouldWrap", cmd({"BLPOP", "nokey", "9223372036854775.807"}),
             ""}),
      // A missing source blocks, whatever the destination holds.
      parks({"BlmoveParksWithWrongTypeDestination",
             lines({"SET d v", "BLMOVE nokey d LEFT LEFT 0"}), kOk}),
      parks({"BrpoplpushParks", lines({"BRPOPLPUSH nokey d 100"}), ""}),
      parks({"BlmpopParks", lines({"BLMPOP 0 2 a b RIGHT COUNT 3"}), ""}),
  };
}

std::vector<RespCase> pubsub_cases() {
  return {
      {"SubscribeCountsDistinctChannels", lines({"SUBSCRIBE a b a", "UNSUBSCRIBE b a", "PING"}),
       subscription("subscribe", "a", 1) + subscription("subscribe", "b", 2) +
           subscription("subscribe", "a", 2) + subscription("unsubscribe", "b", 1) +
           subscription("unsubscribe", "a", 0) + "+PONG\r\n"},
      {"PsubscribeCountsDistinctPatterns",
       lines({"PSUBSCRIBE a* a* b", "PUNSUBSCRIBE b a*", "PING"}),
       subscription("psubscribe", "a*", 1) + subscription("psubscribe", "a*", 1) +
           subscription("psubscribe", "b", 2) + subscription("punsubscribe", "b", 1) +
           subscription("punsubscribe", "a*", 0) + "+PONG\r\n"},
      // The count is of channels and patterns together; a name not subscribed to still answers.
      {"ChannelsAndPatternsCountTogether",
       lines({"SUBSCRIBE a", "PSUBSCRIBE b* c*", "UNSUBSCRIBE", "PUNSUBSCRIBE c* x*", "UNSUBSCRIBE",
              "PUNSUBSCRIBE", "PING"}),
       subscription("subscribe", "a", 1) + subscription("psubscribe", "b*", 2) +
           subscription("psubscribe", "c*", 3) + subscription("unsubscribe", "a", 2) +
           subscription("punsubscribe", "c*", 1) + subscription("punsubscribe", "x*", 1) +
           subscription_nil("unsubscribe", 1) + subscription("punsubscribe", "b*", 0) +
           "+PONG\r\n"},
      {"UnsubscribeWithoutSubscriptions",
       lines({"UNSUBSCRIBE", "UNSUBSCRIBE a b", "PUNSUBSCRIBE", "PUNSUBSCRIBE a* b", "PING"}),
       subscription_nil("unsubscribe", 0) + subscription("unsubscribe", "a", 0) +
           subscription("unsubscribe", "b", 0) + subscription_nil("punsubscribe", 0) +
           subscription("punsubscribe", "a*", 0) + subscription("punsubscribe", "b", 0) +
           "+PONG\r\n"},
      // Not compared: Redis unsubscribes from all in the order of its hash table, seeded at
      // random when it starts; srv goes in the order of subscription.
      uncompared({"UnsubscribeAllGoesInSubscriptionOrder",
                  lines({"SUBSCRIBE a b c", "UNSUBSCRIBE", "PSUBSCRIBE x* y*", "PUNSUBSCRIBE"}),
                  subscription("subscribe", "a", 1) + subscription("subscribe", "b", 2) +
                      subscription("subscribe", "c", 3) + subscription("unsubscribe", "a", 2) +
                      subscription("unsubscribe", "b", 1) + subscription("unsubscribe", "c", 0) +
                      subscription("psubscribe", "x*", 1) + subscription("psubscribe", "y*", 2) +
                      subscription("punsubscribe", "x*", 1) +
                      subscription("punsubscribe", "y*", 0)}),
      {"PingInSubscriberMode",
       lines({"SUBSCRIBE a", "PING", "ping hi", "PING a b", "UNSUBSCRIBE a", "PING", "PING hi"}),
       subscription("subscribe", "a", 1) + bulks({"pong", ""}) + bulks({"pong", "hi"}) +
           arity("ping") + subscription("unsubscribe", "a", 0) + "+PONG\r\n" + bulk("hi")},
      // Only (P)(UN)SUBSCRIBE, PING, QUIT and RESET run in subscriber mode; the refusal names the
      // command as Redis's table does (subcommands as container|sub). An unknown command and a
      // wrong arity are reported before the refusal.
      {"SubscriberModeRefusesOtherCommands",
       lines({"PSUBSCRIBE p*", "GET x", "PUBLISH p m", "blpop l 0", "PUBSUB NUMSUB p", "CLIENT ID",
              "SELECT 0", "AUTH x", "HELLO", "FOO", "GET", "SUBSCRIBE", "PUNSUBSCRIBE", "GET x"}),
       subscription("psubscribe", "p*", 1) + refused("get") + refused("publish") +
           refused("blpop") + refused("pubsub|numsub") + refused("client|id") + refused("select") +
           refused("auth") + refused("hello") +
           err("ERR unknown command 'FOO', with args beginning with: ") + arity("get") +
           arity("subscribe") + subscription("punsubscribe", "p*", 0) + kNil},
      {"SubscriberModeQuit", lines({"SUBSCRIBE a", "QUIT", "PING"}),
       subscription("subscribe", "a", 1) + kOk, true},
      {"PublishWithoutSubscribers",
       lines({"PUBLISH a b", "PUBLISH", "PUBLISH a", "PUBLISH a b c"}) + cmd({"PUBLISH", "", ""}),
       integer(0) + arity("publish") + arity("publish") + arity("publish") + integer(0)},
      {"PubsubWithoutSubscribers",
       lines({"PUBSUB CHANNELS", "PUBSUB channels *", "PUBSUB NUMSUB", "PUBSUB NUMSUB a b a",
              "PUBSUB NUMPAT", "SUBSCRIBE a", "UNSUBSCRIBE a", "PUBSUB NUMSUB a",
              "PUBSUB CHANNELS"}),
       kEmptyArray + kEmptyArray + kEmptyArray +
           array({bulk("a"), integer(0), bulk("b"), integer(0), bulk("a"), integer(0)}) +
           integer(0) + subscription("subscribe", "a", 1) + subscription("unsubscribe", "a", 0) +
           array({bulk("a"), integer(0)}) + kEmptyArray},
      {"PubsubErrors",
       lines({"PUBSUB", "PUBSUB FOO", "PUBSUB CHANNELS a b", "pubsub channels a b",
              "PUBSUB NUMPAT x", "SUBSCRIBE", "PSUBSCRIBE"}),
       arity("pubsub") + err("ERR unknown subcommand 'FOO'. Try PUBSUB HELP.") +
           err("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB "
               "HELP.") +
           err("ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB "
               "HELP.") +
           arity("pubsub|numpat") + arity("subscribe") + arity("psubscribe")},
  };
}

}  // namespace srv::test
