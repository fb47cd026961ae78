// The resp handler, request bytes to reply bytes: every command and every error text, fed whole,
// split at every point and byte by byte through the HandlerDriver.
//
// Expected replies are Redis 7.0's, and RespReference checks the whole table against a live
// redis-server: two it starts on free loopback ports (one with --requirepass secret for the
// cases that need it), or the ones named by SRV_RESP_REFERENCE_PORT and
// SRV_RESP_REFERENCE_AUTH_PORT (scratch servers: their keys are flushed). Cases marked `differs`
// are where srv deliberately answers otherwise (one database, no RESP3, a max_args limit, its
// own command table) and are not compared.

#include "protocols/resp.h"

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "config/section.h"
#include "protocols/resp_commands.h"
#include "tests/handler_driver.h"
#include "tests/redis_reference.h"
#include "tests/resp_cases.h"
#include "tests/resp_test_util.h"
#include "tests/test_context.h"

namespace srv {
namespace {

using namespace test;

constexpr std::int64_t kFixedNowMs = 1'700'000'000'000;

RespSettings test_settings(std::string requirepass = {}) {
  RespSettings settings;
  settings.max_memory = 1024 * 1024;
  settings.requirepass = std::move(requirepass);
  return settings;
}

// Runs `pieces` through a handler of a fresh server (fresh keyspace, a clock that stands still)
// and checks the reply bytes and whether the handler closed the connection.
::testing::AssertionResult replies_match(const RespCase& c,
                                         const std::vector<std::string_view>& pieces) {
  RespFactory factory(test_settings(c.requirepass));
  factory.keyspace().set_clock_for_testing([] { return kFixedNowMs; });
  auto handler = factory.create(test::test_context());
  HandlerDriver driver = test::drive(*handler, pieces);
  if (driver.sent() != c.output) {
    return ::testing::AssertionFailure() << "got  " << ::testing::PrintToString(driver.sent())
                                         << "\nwant " << ::testing::PrintToString(c.output);
  }
  if (driver.overconsumed()) return ::testing::AssertionFailure() << "consumed more than given";
  bool closed_by_handler = !driver.eof_called();
  if (closed_by_handler != c.closes) {
    return ::testing::AssertionFailure()
           << (c.closes ? "the handler did not close" : "the handler closed");
  }
  for (Verdict v : driver.data_verdicts()) {
    if (v == Verdict::kCloseNow) return ::testing::AssertionFailure() << "kCloseNow";
  }
  if (driver.parked() != c.parks) {
    return ::testing::AssertionFailure() << (c.parks ? "the handler did not park" : "it parked");
  }
  return ::testing::AssertionSuccess();
}

std::vector<RespCase> connection_cases() {
  return {
      {"Ping", cmd({"PING"}), "+PONG\r\n"},
      {"PingInline", "PING\r\nping\nPiNg\r\n", repeat("+PONG\r\n", 3)},
      {"PingMessage", cmd({"PING", "hello"}), bulk("hello")},
      {"PingTooMany", cmd({"PING", "a", "b"}), arity("ping")},
      {"Echo", cmd({"ECHO", "a b\r\nc"}), bulk("a b\r\nc")},
      {"EchoEmpty", cmd({"ECHO", ""}), bulk("")},
      {"EchoBinary", cmd({"ECHO", std::string_view("\0\xff\r\n", 4)}),
       bulk(std::string_view("\0\xff\r\n", 4))},
      {"EchoArity", lines({"ECHO", "ECHO a b"}), arity("echo") + arity("echo")},
      {"SelectZero", cmd({"SELECT", "0"}), kOk},
      {"SelectOther",
       lines({"SELECT 1", "SELECT -1"}),
       err("ERR DB index is out of range") + err("ERR DB index is out of range"),
       false,
       {},
       true},
      {"SelectNotInteger", cmd({"SELECT", "x"}), kNotInteger},
      {"SelectOutOfIntRange", cmd({"SELECT", "99999999999"}),
       err("ERR value is out of range, value must between -2147483648 and 2147483647")},
      {"QuitClosesAndIgnoresTheRest", lines({"PING", "QUIT", "PING"}), "+PONG\r\n" + kOk, true},
      {"QuitWithArguments", cmd({"QUIT", "x"}), kOk, true},
      {"UnknownCommand", cmd({"foo"}),
       err("ERR unknown command 'foo', with args beginning with: ")},
      {"UnknownCommandArgs", lines({"foo bar baz"}),
       err("ERR unknown command 'foo', with args beginning with: 'bar' 'baz' ")},
      {"UnknownCommandNulCutsText",
       cmd({std::string_view("fo\0o", 4), std::string_view("a\0b", 3)}),
       err("ERR unknown command 'fo', with args beginning with: 'a' ")},
      {"UnknownCommandCrLfBecomeSpaces", cmd({"foo", "a\r\nb"}),
       err("ERR unknown command 'foo', with args beginning with: 'a  b' ")},
      {"UnknownCommandArgsCutAt128",
       lines({"foo " + std::string(100, 'y') + " " + std::string(100, 'z') + " w"}),
       err("ERR unknown command 'foo', with args beginning with: '" + std::string(100, 'y') +
           "' '" + std::string(25, 'z') + "' ")},
      {"UnknownCommandNameCutAt128", lines({std::string(200, 'x') + " a"}),
       err("ERR unknown command '" + std::string(128, 'x') + "', with args beginning with: 'a' ")},
      {"UnknownEmptyName", cmd({""}), err("ERR unknown command '', with args beginning with: ")},
      {"SubcommandSyntaxIsNotACommand", lines({"client|id"}),
       err("ERR unknown command 'client|id', with args beginning with: ")},
      {"WrongArityUsesLowerCaseName", lines({"GET", "gEt a b", "SET a"}),
       arity("get") + arity("get") + arity("set")},
      {"CommandCount", cmd({"COMMAND", "COUNT"}), integer(58), false, {}, true},
      {"CommandCountArity",
       cmd({"COMMAND", "COUNT", "x"}),
       arity("command|count"),
       false,
       {},
       false},
      {"CommandDocsIsEmpty",
       lines({"COMMAND DOCS", "COMMAND DOCS get"}),
       kEmptyArray + kEmptyArray,
       false,
       {},
       true},
      {"CommandUnknownSubcommand", cmd({"command", "foo"}),
       err("ERR unknown subcommand 'foo'. Try COMMAND HELP.")},
      {"CommandInfoUnknown", cmd({"COMMAND", "INFO", "nosuch"}), array({kNil})},
      {"CommandInfoGet",
       cmd({"COMMAND", "INFO", "get"}),
       array({array({bulk("get"), integer(2), array({"+readonly\r\n", "+fast\r\n"}), integer(1),
                     integer(1), integer(1), kEmptyArray, kEmptyArray, kEmptyArray, kEmptyArray})}),
       false,
       {},
       true},
      {"ClientNeedsSubcommand", cmd({"CLIENT"}), arity("client")},
      {"ClientUnknownSubcommand", cmd({"CLIENT", "FOO"}),
       err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")},
      {"ClientUnknownSubcommandUpperCasesCommand",
       cmd({"client", "kill"}),
       err("ERR unknown subcommand 'kill'. Try CLIENT HELP."),
       false,
       {},
       true},
      {"ClientName",
       lines({"CLIENT GETNAME", "CLIENT SETNAME ab", "CLIENT GETNAME", "CLIENT SETNAME \"\"",
              "CLIENT GETNAME"}),
       kNil + kOk + bulk("ab") + kOk + kNil},
      {"ClientSetNameArity", cmd({"CLIENT", "SETNAME", "a", "b"}), arity("client|setname")},
      {"ClientSetNameRejectsSpaces", cmd({"CLIENT", "SETNAME", "a b"}),
       err("ERR Client names cannot contain spaces, newlines or special characters.")},
      {"ClientId", cmd({"CLIENT", "ID"}), integer(1), false, {}, true},
      {"ClientIdArity", cmd({"CLIENT", "ID", "x"}), arity("client|id")},
      {"ConfigGet",
       lines({"CONFIG GET save", "CONFIG GET appendonly", "CONFIG GET nosuch", "CONFIG GET SAVE"}),
       bulks({"save", ""}) + bulks({"appendonly", "no"}) + kEmptyArray + bulks({"SAVE", ""})},
      {"ConfigArity", lines({"CONFIG", "CONFIG GET"}), arity("config") + arity("config|get")},
      {"ConfigUnknownSubcommand", cmd({"CONFIG", "FOO"}),
       err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")},
      {"InfoUnknownSectionIsEmpty", cmd({"INFO", "nosuch"}), bulk("")},
      {"AuthWithoutPassword", cmd({"AUTH", "x"}),
       err("ERR AUTH <password> called without any password configured for the default user. "
           "Are you sure your configuration is correct?")},
      {"AuthUnknownUser", cmd({"AUTH", "a", "b"}),
       err("WRONGPASS invalid username-password pair or user is disabled.")},
      {"AuthDefaultUserNoPassword", cmd({"AUTH", "default", "anything"}), kOk},
      {"AuthTooMany", cmd({"AUTH", "a", "b", "c"}), kSyntax},
      {"AuthArity", cmd({"AUTH"}), arity("auth")},
      {"HelloBadVersion", lines({"HELLO 4", "HELLO 1", "HELLO x"}),
       err("NOPROTO unsupported protocol version") + err("NOPROTO unsupported protocol version") +
           err("ERR Protocol version is not an integer or out of range")},
      // No RESP3: HELLO 3 is refused and the connection stays on RESP2.
      {"Hello3Refused",
       lines({"HELLO 3", "PING"}),
       err("NOPROTO unsupported protocol version") + "+PONG\r\n",
       false,
       {},
       true},
      {"Hello2",
       lines({"HELLO 2 SETNAME me", "CLIENT GETNAME"}),
       array({bulk("server"), bulk("redis"), bulk("version"), bulk("7.0.0"), bulk("proto"),
              integer(2), bulk("id"), integer(1), bulk("mode"), bulk("standalone"), bulk("role"),
              bulk("master"), bulk("modules"), kEmptyArray}) +
           bulk("me"),
       false,
       {},
       true},
      {"HelloBadOption", cmd({"HELLO", "2", "foo"}), err("ERR Syntax error in HELLO option 'foo'")},
  };
}

std::vector<RespCase> string_cases() {
  return {
      {"SetGet", cmd({"SET", "k", "v"}) + cmd({"GET", "k"}), kOk + bulk("v")},
      {"GetMissing", cmd({"GET", "nokey"}), kNil},
      {"SetOverwrites", lines({"SET k a", "SET k b", "GET k"}), kOk + kOk + bulk("b")},
      {"SetBinaryValue", cmd({"SET", "k", std::string_view("\0\r\n\xff", 4)}) + cmd({"GET", "k"}),
       kOk + bulk(std::string_view("\0\r\n\xff", 4))},
      {"SetNxXx", lines({"SET k v XX", "SET k v NX", "SET k w NX", "SET k w XX", "GET k"}),
       kNil + kOk + kNil + kOk + bulk("w")},
      {"SetGetOption",
       lines({"SET k v GET", "SET k w GET", "SET k x NX GET", "SET j y XX GET", "GET k", "GET j"}),
       kNil + bulk("v") + bulk("w") + kNil + bulk("w") + kNil},
      {"SetExpiry",
       lines({"SET k v EX 100", "TTL k", "SET k v PX 100000", "TTL k", "SET k v KEEPTTL", "TTL k",
              "SET k v", "TTL k"}),
       kOk + integer(100) + kOk + integer(100) + kOk + integer(100) + kOk + integer(-1)},
      {"SetExAtInThePast", lines({"SET k v EXAT 1", "GET k", "EXISTS k"}), kOk + kNil + integer(0)},
      {"SetInvalidExpire",
       lines({"SET k v EX 0", "SET k v EX -1", "SET k v PX 0", "SET k v EX 9223372036854775807",
              "SET k v PX 9223372036854775807"}),
       repeat("-ERR invalid expire time in 'set' command\r\n", 5)},
      {"SetExpireNotInteger", lines({"SET k v EX x", "SET k v EX 1.5"}), kNotInteger + kNotInteger},
      {"SetSyntaxErrors",
       lines({"SET k v EX", "SET k v NX XX", "SET k v XX NX", "SET k v EX 10 PX 10",
              "SET k v KEEPTTL EX 1", "SET k v PX 5 KEEPTTL", "SET k v foo", "EXISTS k"}),
       repeat(kSyntax, 7) + integer(0)},
      {"SetRepeatedOptions", lines({"SET k v EX 1 EX 2", "SET k v nx nx", "SET k v get get"}),
       kOk + kNil + bulk("v")},
      {"SetReplacesList", lines({"RPUSH k a", "SET k v GET", "SET k v", "GET k", "TYPE k"}),
       integer(1) + kWrongType + kOk + bulk("v") + "+string\r\n"},
      {"SetArity", lines({"SET", "SET a"}), arity("set") + arity("set")},
      {"GetWrongType", lines({"RPUSH l a", "GET l"}), integer(1) + kWrongType},
      {"GetArity", lines({"GET", "GET a b"}), arity("get") + arity("get")},
      {"Mset", lines({"MSET a 1 b 2", "MGET a b c", "MSET a 1 a 2", "GET a"}),
       kOk + array({bulk("1"), bulk("2"), kNil}) + kOk + bulk("2")},
      {"MsetArity", lines({"MSET a", "MSET a 1 b"}), arity("mset") + arity("mset")},
      {"MsetClearsExpiry", lines({"SET a 1 EX 100", "MSET a 2", "TTL a"}), kOk + kOk + integer(-1)},
      {"MgetListIsNil", lines({"RPUSH l a", "SET s v", "MGET s l nokey"}),
       integer(1) + kOk + array({bulk("v"), kNil, kNil})},
      {"Incr", lines({"INCR x", "INCR x", "DECR x", "INCRBY x 10", "DECRBY x 3", "GET x"}),
       integer(1) + integer(2) + integer(1) + integer(11) + integer(8) + bulk("8")},
      {"DecrMissing", lines({"DECR z", "DECRBY z 5"}), integer(-1) + integer(-6)},
      {"IncrOverflow",
       lines({"INCRBY x 9223372036854775806", "INCR x", "INCR x", "DECRBY x -9223372036854775808"}),
       integer(9223372036854775806) + integer(9223372036854775807LL) +
           err("ERR increment or decrement would overflow") + err("ERR decrement would overflow")},
      {"IncrUnderflow",
       lines({"SET n -9223372036854775808", "DECR n", "INCRBY n -9223372036854775808"}),
       kOk + err("ERR increment or decrement would overflow") +
           err("ERR increment or decrement would overflow")},
      {"IncrNotInteger",
       lines({"SET y 01", "INCR y", "SET y \" 1\"", "INCR y", "SET y 1.5", "INCR y", "SET y \"\"",
              "INCR y", "SET y -0", "INCR y", "SET y 99999999999999999999", "INCR y", "INCRBY y a",
              "INCRBY z 1.5"}),
       repeat(kOk + kNotInteger, 6) + kNotInteger + kNotInteger},
      {"IncrWrongType", lines({"RPUSH l a", "INCR l", "INCRBY l x"}),
       integer(1) + kWrongType + kNotInteger},
      {"IncrKeepsExpiry", lines({"SET t 5 EX 100", "INCR t", "TTL t"}),
       kOk + integer(6) + integer(100)},
      {"IncrArity", lines({"INCR", "INCR a b", "INCRBY a", "DECRBY a"}),
       arity("incr") + arity("incr") + arity("incrby") + arity("decrby")},
      {"Append", lines({"APPEND a foo", "APPEND a bar", "GET a", "STRLEN a", "STRLEN nokey"}),
       integer(3) + integer(6) + bulk("foobar") + integer(6) + integer(0)},
      {"AppendWrongType", lines({"RPUSH l a", "APPEND l x", "STRLEN l"}),
       integer(1) + kWrongType + kWrongType},
  };
}

std::vector<RespCase> key_cases() {
  return {
      {"Del", lines({"MSET a 1 b 2", "DEL a a b c", "EXISTS a b"}), kOk + integer(2) + integer(0)},
      {"Exists", lines({"SET a 1", "EXISTS a a b"}), kOk + integer(2)},
      {"KeyArity", lines({"DEL", "EXISTS", "MGET", "TTL", "TYPE"}),
       arity("del") + arity("exists") + arity("mget") + arity("ttl") + arity("type")},
      {"Ttl",
       lines({"TTL nokey", "PTTL nokey", "SET a 1", "TTL a", "PTTL a", "EXPIRE a 100", "TTL a",
              "PEXPIRE a 5000", "PTTL a", "TTL a"}),
       integer(-2) + integer(-2) + kOk + integer(-1) + integer(-1) + integer(1) + integer(100) +
           integer(1) + integer(5000) + integer(5)},
      {"ExpireOptions",
       lines({"SET l v", "EXPIRE l 100 XX", "EXPIRE l 100", "EXPIRE l 100 NX", "EXPIRE l 200 GT",
              "EXPIRE l 50 GT", "EXPIRE l 50 LT", "TTL l", "EXPIRE l 60 LT", "PERSIST l",
              "EXPIRE l 10 GT", "EXPIRE l 10 LT", "TTL l"}),
       kOk + integer(0) + integer(1) + integer(0) + integer(1) + integer(0) + integer(1) +
           integer(50) + integer(0) + integer(1) + integer(0) + integer(1) + integer(10)},
      {"ExpireOptionErrors",
       lines({"SET l v", "EXPIRE l 5 NX XX", "EXPIRE l 5 xx nx", "EXPIRE l 5 NX GT",
              "EXPIRE l 5 GT LT", "EXPIRE l 5 FOO", "EXPIRE l x"}),
       kOk + repeat(err("ERR NX and XX, GT or LT options at the same time are not compatible"), 3) +
           err("ERR GT and LT options at the same time are not compatible") +
           err("ERR Unsupported option FOO") + kNotInteger},
      {"ExpireOverflow",
       lines({"SET l v", "EXPIRE l 9223372036854775807", "EXPIRE l -9223372036854775808",
              "PEXPIRE l 9223372036854775807"}),
       kOk + repeat("-ERR invalid expire time in 'expire' command\r\n", 2) +
           "-ERR invalid expire time in 'pexpire' command\r\n"},
      {"ExpireNegativeDeletes", lines({"SET l v", "EXPIRE l -1", "EXISTS l", "EXPIRE nokey 10"}),
       kOk + integer(1) + integer(0) + integer(0)},
      {"ExpireArity", lines({"EXPIRE", "EXPIRE a"}), arity("expire") + arity("expire")},
      {"Persist",
       lines({"PERSIST nokey", "SET a 1", "PERSIST a", "EXPIRE a 10", "PERSIST a", "TTL a"}),
       integer(0) + kOk + integer(0) + integer(1) + integer(1) + integer(-1)},
      {"Type", lines({"SET s v", "RPUSH l x", "TYPE s", "TYPE l", "TYPE nokey"}),
       kOk + integer(1) + "+string\r\n+list\r\n+none\r\n"},
      {"DbsizeFlushall",
       lines({"MSET a 1 b 2", "RPUSH l x", "DBSIZE", "FLUSHALL", "DBSIZE", "FLUSHALL ASYNC",
              "FLUSHALL sync"}),
       kOk + integer(1) + integer(3) + kOk + integer(0) + kOk + kOk},
      {"FlushallSyntax", lines({"FLUSHALL x", "FLUSHALL SYNC x"}), kSyntax + kSyntax},
      {"DbsizeArity", cmd({"DBSIZE", "x"}), arity("dbsize")},
  };
}

std::vector<RespCase> list_cases() {
  return {
      {"PushRange",
       lines({"RPUSH l a b c d e", "LRANGE l 0 -1", "LRANGE l -2 -1", "LRANGE l 3 1",
              "LRANGE l -100 100", "LRANGE l 5 10",
              "LRANGE l -9223372036854775808 9223372036854775807", "LLEN l"}),
       integer(5) + bulks({"a", "b", "c", "d", "e"}) + bulks({"d", "e"}) + kEmptyArray +
           bulks({"a", "b", "c", "d", "e"}) + kEmptyArray + bulks({"a", "b", "c", "d", "e"}) +
           integer(5)},
      {"LpushOrder", lines({"LPUSH l x y", "RPUSH l z", "LRANGE l 0 -1"}),
       integer(2) + integer(3) + bulks({"y", "x", "z"})},
      {"LrangeErrors",
       lines({"RPUSH l a", "LRANGE l x 1", "LRANGE l 1 x", "LRANGE nokey 0 -1", "LRANGE l 0"}),
       integer(1) + kNotInteger + kNotInteger + kEmptyArray + arity("lrange")},
      {"Pop",
       lines({"RPUSH l a b c d", "LPOP l", "RPOP l", "LLEN l", "LPOP l", "LPOP l", "EXISTS l",
              "LPOP l", "RPOP l"}),
       integer(4) + bulk("a") + bulk("d") + integer(2) + bulk("b") + bulk("c") + integer(0) + kNil +
           kNil},
      {"PopCount",
       lines({"LPOP nokey 2", "RPUSH l a b c", "LPOP l 0", "LPOP l 2", "RPUSH l x y", "RPOP l 2",
              "RPOP l 5", "EXISTS l", "LPOP l 1"}),
       kNilArray + integer(3) + kEmptyArray + bulks({"a", "b"}) + integer(3) + bulks({"y", "x"}) +
           bulks({"c"}) + integer(0) + kNilArray},
      {"PopCountErrors", lines({"RPUSH l a", "LPOP l -1", "LPOP l x", "LPOP l 1 2", "RPOP l 1 2"}),
       integer(1) + repeat(err("ERR value is out of range, must be positive"), 2) + arity("lpop") +
           arity("rpop")},
      {"ListWrongType",
       lines({"SET s v", "LPUSH s a", "RPUSH s a", "LLEN s", "LRANGE s 0 -1", "LPOP s", "RPOP s 2",
              "GET s"}),
       kOk + repeat(kWrongType, 6) + bulk("v")},
      {"ListArity", lines({"LPUSH l", "RPUSH", "LLEN", "LPOP", "LRANGE l 0 1 2"}),
       arity("lpush") + arity("rpush") + arity("llen") + arity("lpop") + arity("lrange")},
  };
}

std::vector<RespCase> protocol_cases() {
  return {
      {"PipelineMixed", "PING\r\n" + cmd({"SET", "k", "v"}) + "GET k\n" + cmd({"GET", "k"}),
       "+PONG\r\n" + kOk + bulk("v") + bulk("v")},
      {"EmptyCommandsSkipped", "*0\r\n*-1\r\n\r\n  \r\nPING\r\n", "+PONG\r\n"},
      {"IncompleteAtEofIsDropped", cmd({"PING"}) + "*1\r\n$4\r\nPI", "+PONG\r\n"},
      {"ErrorInvalidMultibulk", cmd({"PING"}) + "*01\r\n" + cmd({"PING"}),
       "+PONG\r\n" + err("ERR Protocol error: invalid multibulk length"), true},
      {"ErrorMaxArgs",
       "*20000000\r\n",
       err("ERR Protocol error: invalid multibulk length"),
       true,
       {},
       true},
      {"ErrorExpectedDollar", "*1\r\nfoo\r\n", err("ERR Protocol error: expected '$', got 'f'"),
       true},
      {"ErrorBulkLength", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
       err("ERR Protocol error: invalid bulk length"), true},
      {"ErrorBulkLengthText", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
       err("ERR Protocol error: invalid bulk length"), true},
      {"ErrorUnbalancedQuotes", "set \"\"\"test-key\"\"\" test-value\r\nping\r\n",
       err("ERR Protocol error: unbalanced quotes in request"), true},
      {"ErrorTooBigInline", std::string(1, '\0') + std::string(70000, 'A'),
       err("ERR Protocol error: too big inline request"), true},
      {"ErrorTooBigMbulkCount", std::string("*\0", 2) + std::string(70000, 'A'),
       err("ERR Protocol error: too big mbulk count string"), true},
      // With requirepass, only AUTH, HELLO and QUIT work before AUTH; unknown commands and wrong
      // arity are still reported as such (Redis checks those first).
      {"NoAuth",
       lines({"PING", "GET a", "SELECT 0", "COMMAND DOCS", "CLIENT SETNAME x", "foo", "get"}),
       repeat(err("NOAUTH Authentication required."), 5) +
           err("ERR unknown command 'foo', with args beginning with: ") + arity("get"),
       false, "secret"},
      {"AuthThenCommands",
       lines({"AUTH x", "AUTH secre", "AUTH secretx", "AUTH default x", "PING", "AUTH secret",
              "PING", "AUTH default secret"}),
       repeat(err("WRONGPASS invalid username-password pair or user is disabled."), 4) +
           err("NOAUTH Authentication required.") + kOk + "+PONG\r\n" + kOk,
       false, "secret"},
      {"HelloNeedsAuth", lines({"HELLO", "HELLO 2", "HELLO 2 AUTH default wrong"}),
       repeat(err("NOAUTH HELLO must be called with the client already authenticated, otherwise "
                  "the HELLO AUTH <user> <pass> option can be used to authenticate the client "
                  "and select the RESP protocol version at the same time"),
              2) +
           err("WRONGPASS invalid username-password pair or user is disabled."),
       false, "secret"},
      {"HelloAuthenticates", lines({"HELLO 2 AUTH default secret", "PING"}),
       array({bulk("server"), bulk("redis"), bulk("version"), bulk("7.0.0"), bulk("proto"),
              integer(2), bulk("id"), integer(1), bulk("mode"), bulk("standalone"), bulk("role"),
              bulk("master"), bulk("modules"), kEmptyArray}) +
           "+PONG\r\n",
       false, "secret", true},
      {"QuitBeforeAuth", lines({"QUIT"}), kOk, true, "secret"},
      {"UnauthenticatedArgLimit", "*11\r\n",
       err("ERR Protocol error: unauthenticated multibulk length"), true, "secret"},
      {"UnauthenticatedBulkLimit", "*1\r\n$16385\r\n",
       err("ERR Protocol error: unauthenticated bulk length"), true, "secret"},
      {"AuthLiftsLimits",
       "AUTH secret\r\n" + cmd({"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"}),
       kOk + kOk, false, "secret"},
  };
}

std::vector<RespCase> all_cases() {
  std::vector<RespCase> all;
  for (auto group :
       {connection_cases(), string_cases(), key_cases(), list_cases(), list_edit_cases(),
        list_move_cases(), blocking_cases(), pubsub_cases(), protocol_cases()}) {
    all.insert(all.end(), group.begin(), group.end());
  }
  return all;
}

class RespTable : public ::testing::TestWithParam<RespCase> {};

TEST_P(RespTable, WholeInput) {
  const RespCase& c = GetParam();
  EXPECT_TRUE(replies_match(c, {c.input}));
}

TEST_P(RespTable, SplitInTwoAtEveryPoint) {
  const RespCase& c = GetParam();
  std::size_t stride = c.input.size() > 4096 ? 1009 : 1;
  for (std::size_t at = 0; at <= c.input.size();
       at += (at < 64 || at + 64 > c.input.size()) ? 1 : stride) {
    auto result = replies_match(c, split_in_two(c.input, at));
    if (!result) {
      ADD_FAILURE() << "split at " << at << " of " << c.input.size() << ": " << result.message();
      return;
    }
  }
}

TEST_P(RespTable, ByteByByte) {
  const RespCase& c = GetParam();
  EXPECT_TRUE(replies_match(c, split_bytes(c.input)));
}

INSTANTIATE_TEST_SUITE_P(Resp, RespTable, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<RespCase>& param_info) {
                           return param_info.param.name;
                         });

// The same bytes to a real redis-server give the same reply (see the top of this file): the
// servers named by the environment, else throwaway ones this test starts. Skipped only when
// redis-server is not installed (or does not start), and then failed if
// SRV_RESP_REFERENCE_REQUIRED is set, as scripts/test.sh (CI) sets it.
TEST(RespReference, TableMatchesRedisServer) {
  std::optional<int> plain = reference_port("SRV_RESP_REFERENCE_PORT");
  std::optional<int> with_password = reference_port("SRV_RESP_REFERENCE_AUTH_PORT");
  std::optional<RedisReference> own_plain;
  std::optional<RedisReference> own_with_password;
  if (!plain) plain = own_plain.emplace().port();
  if (!with_password) {
    with_password =
        own_with_password.emplace(std::vector<std::string>{"--requirepass", "secret"}).port();
  }
  if (!plain || !with_password) {
    constexpr const char* kWhy =
        "no redis-server to compare with: none on PATH, or it did not answer within 5 s "
        "(scripts/install-deps.sh --test installs it)";
    if (std::getenv("SRV_RESP_REFERENCE_REQUIRED") != nullptr) FAIL() << kWhy;
    GTEST_SKIP() << kWhy << "; SRV_RESP_REFERENCE_REQUIRED=1 (as in scripts/test.sh) fails instead";
  }
  int compared = 0;
  for (const RespCase& c : all_cases()) {
    if (c.differs) continue;  // srv differs here on purpose
    std::optional<int> port = c.requirepass.empty() ? plain : with_password;
    ASSERT_TRUE(c.requirepass.empty() || c.requirepass == "secret") << c.name;
    bool closed = false;
    ask_server(*port, c.requirepass.empty() ? "FLUSHALL\r\n" : "AUTH secret\r\nFLUSHALL\r\n",
               closed, std::chrono::milliseconds(300), c.requirepass.empty() ? 5 : 10);
    // A case that ends with a close is read until the close; others until their reply's length.
    std::size_t expected = c.closes ? std::string::npos : c.output.size();
    std::string reply =
        ask_server(*port, c.input, closed, std::chrono::milliseconds(300), expected);
    EXPECT_EQ(reply, c.output) << c.name;
    EXPECT_EQ(closed, c.closes) << c.name;
    ++compared;
  }
  std::cout << "compared " << compared << " cases with redis-server\n";
}

// ---- Handler behaviour beyond single replies ----------------------------------------------------

// Sends `input` in one chunk to `handler` and returns what it replied.
std::string reply_to(ProtocolHandler& handler, std::string_view input) {
  HandlerDriver driver(handler);
  driver.feed(input);
  return driver.sent();
}

TEST(RespHandler, PipelinesAThousandCommandsInOrder) {
  RespFactory factory(test_settings());
  auto handler = factory.create(test::test_context());
  std::string input;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string key = "key" + std::to_string(i);
    input += cmd({"SET", key, std::to_string(i)}) + cmd({"INCR", key}) + cmd({"GET", key});
    expected += kOk + integer(i + 1) + bulk(std::to_string(i + 1));
  }
  HandlerDriver driver(*handler);
  driver.feed(input);
  EXPECT_EQ(driver.sent(), expected);
  EXPECT_TRUE(driver.pending_input().empty());
}

TEST(RespHandler, YieldsToTheDriverOnceManyRepliesWait) {
  // 40 GETs of a 10 KiB value: one call would produce 400 KiB; the handler stops after about
  // 64 KiB so the connection can write (and apply backpressure) in between.
  RespSettings settings = test_settings();
  RespFactory factory(settings);
  auto handler = factory.create(test::test_context());
  std::string value(10 * 1024, 'x');
  EXPECT_EQ(reply_to(*handler, cmd({"SET", "big", value})), kOk);
  std::string input;
  for (int i = 0; i < 40; ++i) input += cmd({"GET", "big"});
  HandlerDriver driver(*handler);
  driver.feed(input);
  EXPECT_EQ(driver.sent(), repeat(bulk(value), 40));
  EXPECT_GE(driver.on_data_calls(), 5u);
  for (std::size_t consumed : driver.consumed())
    EXPECT_LE(consumed, 8 * cmd({"GET", "big"}).size());
}

TEST(RespHandler, PartialCommandAtEofIsLeftUnanswered) {
  RespFactory factory(test_settings());
  auto handler = factory.create(test::test_context());
  std::vector<std::string_view> pieces = {"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET"};
  HandlerDriver driver = test::drive(*handler, pieces);
  EXPECT_EQ(driver.sent(), "+PONG\r\n");
  EXPECT_EQ(driver.eof_rest(), "*2\r\n$3\r\nGET");
  EXPECT_EQ(driver.eof_verdict(), Verdict::kCloseAfterFlush);
}

TEST(RespHandler, ProtocolErrorClosesAfterFlush) {
  RespFactory factory(test_settings());
  auto handler = factory.create(test::test_context());
  HandlerDriver driver(*handler);
  driver.feed("PING\r\n*1\r\nx\r\nPING\r\n");
  EXPECT_EQ(driver.data_verdicts().back(), Verdict::kCloseAfterFlush);
  EXPECT_FALSE(driver.reading());
}

TEST(RespHandler, ConnectionsShareTheKeyspace) {
  RespFactory factory(test_settings());
  auto a = factory.create(test::test_context());
  auto b = factory.create(test::test_context());
  EXPECT_EQ(reply_to(*a, cmd({"SET", "shared", "1"})), kOk);
  EXPECT_EQ(reply_to(*b, cmd({"GET", "shared"})), bulk("1"));
  EXPECT_EQ(reply_to(*b, cmd({"RPUSH", "list", "x"})), integer(1));
  EXPECT_EQ(reply_to(*a, cmd({"LRANGE", "list", "0", "-1"})), bulks({"x"}));
  // Each connection has its own id and name.
  EXPECT_EQ(reply_to(*a, cmd({"CLIENT", "ID"})), integer(1));
  EXPECT_EQ(reply_to(*b, cmd({"CLIENT", "ID"})), integer(2));
  EXPECT_EQ(reply_to(*a, cmd({"CLIENT", "SETNAME", "a"})), kOk);
  EXPECT_EQ(reply_to(*b, cmd({"CLIENT", "GETNAME"})), kNil);
}

// A blocking command's timeout becomes the handler's deadline; one too far off for the clock
// (1e13 s) is no deadline at all rather than one that wrapped into the past.
// Subscribers wait for publishers: the connection spares them idle_timeout while subscribed.
TEST(RespHandler, ASubscriberWaitsForOthers) {
  RespFactory factory(test_settings());
  TestContext context;
  auto handler = factory.create(context.context);
  EXPECT_FALSE(handler->waits_for_others());
  reply_to(*handler, cmd({"SUBSCRIBE", "a"}));
  EXPECT_TRUE(handler->waits_for_others());
  reply_to(*handler, cmd({"PSUBSCRIBE", "p*"}));
  reply_to(*handler, cmd({"UNSUBSCRIBE"}));
  EXPECT_TRUE(handler->waits_for_others()) << "still has a pattern";
  reply_to(*handler, cmd({"PUNSUBSCRIBE"}));
  EXPECT_FALSE(handler->waits_for_others());
}

TEST(RespHandler, BlockingTimeoutsSetTheDeadline) {
  using std::chrono::milliseconds;
  struct Case {
    std::string timeout;
    std::optional<milliseconds> after;  // nullopt: no deadline (time_point::max)
  };
  const std::vector<Case> cases = {
      {"0", std::nullopt},
      {"-0.0001", std::nullopt},
      {"1.5", milliseconds(1500)},
      {"0.0001", milliseconds(1)},
      {"1e13", std::nullopt},
      {"9223372036854", std::nullopt},
      {"1e9", milliseconds(1'000'000'000'000)},
  };
  RespFactory factory(test_settings());
  for (const Case& c : cases) {
    TestContext context;
    auto handler = factory.create(context.context);
    const Clock::time_point before = Clock::now();
    HandlerDriver driver(*handler);
    driver.feed(cmd({"BLPOP", "nokey", c.timeout}));
    const Clock::time_point after = Clock::now();
    EXPECT_TRUE(driver.parked()) << c.timeout;
    if (!c.after) {
      EXPECT_EQ(handler->deadline(), Clock::time_point::max()) << c.timeout;
    } else {
      EXPECT_GE(handler->deadline(), before + *c.after) << c.timeout;
      EXPECT_LE(handler->deadline(), after + *c.after) << c.timeout;
    }
  }
}

// What the one-connection tables cannot show: a push serves a parked BLPOP, a PUBLISH reaches a
// subscriber's mailbox, and PUBSUB counts live subscriptions. (They ring through srv::wake(),
// to a doorbell no test opened: the test calls on_wake itself.)
TEST(RespHandler, PushesServeWaitersAndPublishesReachSubscribers) {
  RespFactory factory(test_settings());
  TestContext waiter_context(7);
  TestContext subscriber_context(8);
  auto waiter = factory.create(waiter_context.context);
  auto subscriber = factory.create(subscriber_context.context);
  auto other = factory.create(test::test_context());
  HandlerDriver waiting(*waiter);
  waiting.feed(cmd({"BLPOP", "l", "0"}));
  ASSERT_TRUE(waiting.parked());
  EXPECT_NE(reply_to(*other, cmd({"INFO", "clients"})).find("blocked_clients:1\r\n"),
            std::string::npos);
  EXPECT_EQ(reply_to(*other, cmd({"RPUSH", "l", "x", "y"})), integer(2));
  Buffer out;
  EXPECT_EQ(waiter->on_wake(out), Verdict::kContinue);
  EXPECT_EQ(out.readable(), bulks({"l", "x"}));
  EXPECT_EQ(reply_to(*other, cmd({"LRANGE", "l", "0", "-1"})), bulks({"y"}));

  EXPECT_EQ(reply_to(*subscriber, lines({"SUBSCRIBE news", "PSUBSCRIBE n*"})),
            array({bulk("subscribe"), bulk("news"), integer(1)}) +
                array({bulk("psubscribe"), bulk("n*"), integer(2)}));
  EXPECT_EQ(
      reply_to(*other, lines({"PUBSUB NUMSUB news other", "PUBSUB CHANNELS", "PUBSUB NUMPAT"})),
      array({bulk("news"), integer(1), bulk("other"), integer(0)}) + bulks({"news"}) + integer(1));
  EXPECT_EQ(reply_to(*other, cmd({"PUBLISH", "news", "hi"})), integer(2));
  out.clear();
  EXPECT_EQ(subscriber->on_wake(out), Verdict::kContinue);
  EXPECT_EQ(out.readable(),
            bulks({"message", "news", "hi"}) + bulks({"pmessage", "n*", "news", "hi"}));
  subscriber.reset();  // a subscriber that goes is no longer counted
  EXPECT_EQ(reply_to(*other, lines({"PUBLISH news hi", "PUBSUB NUMPAT"})), integer(0) + integer(0));
}

TEST(RespHandler, InfoReportsClientsKeysAndMemory) {
  RespFactory factory(test_settings());
  auto a = factory.create(test::test_context());
  std::string info;
  {
    auto b = factory.create(test::test_context());
    reply_to(*a, lines({"SET k v EX 100", "SET j v"}));
    info = reply_to(*b, cmd({"INFO"}));
  }
  EXPECT_NE(info.find("connected_clients:2\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("db0:keys=2,expires=1,avg_ttl=0\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("maxmemory:1048576\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("redis_version:"), std::string::npos) << info;
  EXPECT_NE(reply_to(*a, cmd({"INFO", "clients"})).find("connected_clients:1\r\n"),
            std::string::npos);
  EXPECT_EQ(reply_to(*a, cmd({"INFO", "clients"})).find("# Memory"), std::string::npos);
}

// An HTTP request on the resp port (cross-protocol scripting): Redis drops the connection at
// "POST" or "Host:" without a reply, before AUTH. What came before is answered: srv flushes per
// call, where Redis, which reads it all at once, happens to drop those replies too.
TEST(RespHandler, HttpRequestLinesCloseAtOnce) {
  struct Case {
    std::string input, sent, requirepass = {};
  };
  const Case cases[] = {
      {"POST / HTTP/1.1\r\nHost: x\r\n\r\nPING\r\n", ""},
      {"host: example.com\r\nPING\r\n", ""},
      {"HOST: example.com\r\n", ""},
      {cmd({"post"}) + cmd({"PING"}), ""},
      {"PING\r\nPost /x HTTP/1.0\r\nPING\r\n", "+PONG\r\n"},
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", arity("get")},
      {"POST / HTTP/1.1\r\n", "", "secret"},
  };
  for (const Case& c : cases) {
    for (std::size_t at = 0; at <= c.input.size(); ++at) {
      RespFactory factory(test_settings(c.requirepass));
      auto handler = factory.create(test::test_context());
      HandlerDriver driver = test::drive(*handler, split_in_two(c.input, at));
      EXPECT_EQ(driver.sent(), c.sent) << c.input << " split at " << at;
      EXPECT_TRUE(driver.closed_now()) << c.input << " split at " << at;
    }
  }
}

TEST(RespHandler, CommandListsEveryCommand) {
  RespFactory factory(test_settings());
  auto handler = factory.create(test::test_context());
  std::string all = reply_to(*handler, cmd({"COMMAND"}));
  EXPECT_EQ(all.rfind("*58\r\n", 0), 0u);
  for (const CommandSpec& spec : command_table()) {
    EXPECT_NE(all.find(bulk(spec.name)), std::string::npos) << spec.name;
  }
  std::string names = reply_to(*handler, cmd({"COMMAND", "LIST"}));
  EXPECT_NE(names.find(bulk("client|setname")), std::string::npos);
  EXPECT_EQ(reply_to(*handler, cmd({"COMMAND", "INFO", "client|id"})).rfind("*1\r\n*10\r\n", 0),
            0u);
}

TEST(RespHandler, ExpiryFollowsTheClock) {
  RespFactory factory(test_settings());
  std::int64_t now = kFixedNowMs;
  factory.keyspace().set_clock_for_testing([&now] { return now; });
  auto handler = factory.create(test::test_context());
  EXPECT_EQ(reply_to(*handler, lines({"SET k v EX 10", "SET p v PX 1500", "RPUSH l a"})),
            kOk + kOk + integer(1));
  EXPECT_EQ(reply_to(*handler, lines({"EXPIRE l 5"})), integer(1));
  now += 1499;
  EXPECT_EQ(reply_to(*handler, lines({"GET p", "PTTL p", "TTL k"})),
            bulk("v") + integer(1) + integer(9));  // 8501 ms left rounds to 9 s
  now += 1;
  EXPECT_EQ(reply_to(*handler, lines({"GET p", "TTL p", "EXISTS p"})),
            kNil + integer(-2) + integer(0));
  now += 3500;  // 5000 ms in: the list's 5 s are up
  EXPECT_EQ(reply_to(*handler, lines({"LLEN l", "LRANGE l 0 -1", "RPUSH l b", "LRANGE l 0 -1"})),
            integer(0) + kEmptyArray + integer(1) + bulks({"b"}));
  now += 4999;
  EXPECT_EQ(reply_to(*handler, lines({"GET k", "PTTL k"})), bulk("v") + integer(1));
  now += 1;
  EXPECT_EQ(reply_to(*handler, lines({"GET k", "SET k w NX", "GET k", "TTL k"})),
            kNil + kOk + bulk("w") + integer(-1));
}

TEST(RespHandler, WritesSweepExpiredKeysNobodyReads) {
  RespFactory factory(test_settings());
  std::int64_t now = kFixedNowMs;
  factory.keyspace().set_clock_for_testing([&now] { return now; });
  auto handler = factory.create(test::test_context());
  std::string input;
  for (int i = 0; i < 200; ++i) input += cmd({"SET", "t" + std::to_string(i), "v", "PX", "10"});
  reply_to(*handler, input);
  EXPECT_EQ(reply_to(*handler, cmd({"DBSIZE"})), integer(200));
  now += 10;
  // DBSIZE counts expired keys not yet removed, as Redis does; writes remove some each.
  EXPECT_EQ(reply_to(*handler, cmd({"DBSIZE"})), integer(200));
  std::string writes;
  for (int i = 0; i < 400; ++i) writes += cmd({"SET", "live", "v"});
  reply_to(*handler, writes);
  EXPECT_EQ(reply_to(*handler, cmd({"DBSIZE"})), integer(1));
}

// ---- A full keyspace -------------------------------------------------------------------------

const std::string kOom = err("OOM command not allowed when used memory > 'maxmemory'.");

class RespOom : public ::testing::Test {
 protected:
  RespOom() : factory_(small()), handler_(factory_.create(test::test_context())) {}

  static RespSettings small() {
    RespSettings settings = test_settings();
    settings.max_memory = 128 * 1024;
    return settings;
  }

  // SETs 1 KiB values under key0, key1, ... until the store refuses; returns how many fit.
  int fill() {
    std::string value(1024, 'v');
    for (int i = 0; i < 1000; ++i) {
      std::string reply = reply_to(*handler_, cmd({"SET", "key" + std::to_string(i), value}));
      if (reply == kOom) return i;
      EXPECT_EQ(reply, kOk);
    }
    ADD_FAILURE() << "128 KiB held 1000 values of 1 KiB";
    return 0;
  }

  // After fill(): SETs 8-byte values under new keys small0, small1, ... until the store
  // refuses, so that only a few bytes are left. Returns the keys it set.
  std::vector<std::string> fill_rest() {
    std::vector<std::string> keys;
    for (int i = 0; i < 10000; ++i) {
      std::string key = "small" + std::to_string(small_keys_++);
      if (reply_to(*handler_, cmd({"SET", key, "12345678"})) == kOom) return keys;
      keys.push_back(key);
    }
    ADD_FAILURE() << "a full store held 10000 more values";
    return keys;
  }

  RespFactory factory_;
  std::unique_ptr<ProtocolHandler> handler_;
  int small_keys_ = 0;  // fill_rest's keys so far
};

TEST_F(RespOom, FullStoreRefusesWritesAndKeepsData) {
  int stored = fill();
  EXPECT_GT(stored, 50);
  EXPECT_EQ(reply_to(*handler_, cmd({"DBSIZE"})), integer(stored));
  EXPECT_EQ(reply_to(*handler_, cmd({"GET", "key0"})), bulk(std::string(1024, 'v')));
  EXPECT_EQ(reply_to(*handler_, cmd({"APPEND", "key0", std::string(4096, 'a')})), kOom);
  EXPECT_EQ(reply_to(*handler_, cmd({"STRLEN", "key0"})), integer(1024));
  // Reads and deletes still work, and freeing makes room again.
  EXPECT_EQ(reply_to(*handler_, cmd({"DEL", "key0", "key1", "key2"})), integer(3));
  EXPECT_EQ(reply_to(*handler_, cmd({"SET", "again", std::string(1024, 'w')})), kOk);
  EXPECT_EQ(reply_to(*handler_, cmd({"FLUSHALL"})), kOk);
  EXPECT_GE(fill(), stored);  // everything freed was reusable: nothing leaked
}

// Frees one value at a time from a full store and retries a multi-key write after each: every
// attempt either succeeds whole or is refused with nothing changed, whichever allocation (a
// staged value, a new key, the table growing) is the one that does not fit.
TEST_F(RespOom, MsetIsAllOrNothing) {
  int stored = fill();
  ASSERT_GT(stored, 10);
  std::string value(300, 'm');
  std::string last = "key" + std::to_string(stored - 1);
  bool succeeded = false;
  for (int i = 0; i < stored - 1 && !succeeded; ++i) {
    std::string reply =
        reply_to(*handler_, cmd({"MSET", "n1", value, "n2", value, "n3", value, last, "new"}));
    std::string exists = reply_to(*handler_, cmd({"EXISTS", "n1", "n2", "n3"}));
    if (reply == kOk) {
      EXPECT_EQ(exists, integer(3));
      EXPECT_EQ(reply_to(*handler_, cmd({"GET", last})), bulk("new"));
      succeeded = true;
    } else {
      ASSERT_EQ(reply, kOom);
      EXPECT_EQ(exists, integer(0)) << "after freeing " << i << " values";
      EXPECT_EQ(reply_to(*handler_, cmd({"GET", last})), bulk(std::string(1024, 'v')));
    }
    reply_to(*handler_, cmd({"DEL", "key" + std::to_string(i)}));
  }
  EXPECT_TRUE(succeeded);
}

TEST_F(RespOom, PushIsAllOrNothing) {
  EXPECT_EQ(reply_to(*handler_, cmd({"RPUSH", "l", "first"})), integer(1));
  int stored = fill();
  std::string value(300, 'e');
  bool appended = false;
  bool created = false;
  for (int i = 0; i < stored && !(appended && created); ++i) {
    if (!appended) {
      std::string reply = reply_to(*handler_, cmd({"RPUSH", "l", value, value, value, value}));
      if (reply == integer(5)) {
        appended = true;
      } else {
        ASSERT_EQ(reply, kOom);
        EXPECT_EQ(reply_to(*handler_, cmd({"LRANGE", "l", "0", "-1"})), bulks({"first"}));
      }
    }
    if (!created) {
      std::string reply = reply_to(*handler_, cmd({"LPUSH", "new", value, value, value}));
      if (reply == integer(3)) {
        created = true;
      } else {
        ASSERT_EQ(reply, kOom);
        EXPECT_EQ(reply_to(*handler_, cmd({"EXISTS", "new"})), integer(0));
      }
    }
    reply_to(*handler_, cmd({"DEL", "key" + std::to_string(i)}));
  }
  EXPECT_TRUE(appended);
  EXPECT_TRUE(created);
  EXPECT_EQ(reply_to(*handler_, cmd({"LLEN", "l"})), integer(5));
}

// LSET, LINSERT and LMOVE to a new list each allocate (the new element, a slot, a key, its list
// and a block of it): in a store full to the last bytes, then freed a few bytes at a time so
// that each allocation in turn is the one that fails, each is refused with nothing changed
// until it is done whole.
TEST_F(RespOom, ListEditsAndMovesAreAllOrNothing) {
  ASSERT_EQ(reply_to(*handler_, cmd({"RPUSH", "l", "a", "b", "c"})), integer(3));
  int stored = fill();
  std::string value(300, 'e');
  struct Step {
    std::string request;
    std::string done;        // its reply when it fits
    std::string list_after;  // LRANGE l 0 -1 once done
  };
  const std::vector<Step> steps = {
      {cmd({"LSET", "l", "1", value}), kOk, bulks({"a", value, "c"})},
      {cmd({"LINSERT", "l", "BEFORE", "c", value}), integer(4), bulks({"a", value, value, "c"})},
      {cmd({"LMOVE", "l", "moved", "LEFT", "RIGHT"}), bulk("a"), bulks({value, value, "c"})},
  };
  std::string list = bulks({"a", "b", "c"});
  int big_freed = 0;
  for (const Step& step : steps) {
    // 1 KiB freed and filled again with small values, which are then freed one at a time.
    reply_to(*handler_, cmd({"DEL", "key" + std::to_string(big_freed++)}));
    std::vector<std::string> to_free = fill_rest();
    int refused = 0;
    for (;;) {
      std::string reply = reply_to(*handler_, step.request);
      if (reply == step.done) break;
      ASSERT_EQ(reply, kOom) << step.request;
      ++refused;
      EXPECT_EQ(reply_to(*handler_, cmd({"LRANGE", "l", "0", "-1"})), list) << step.request;
      EXPECT_EQ(reply_to(*handler_, cmd({"EXISTS", "moved"})), integer(0)) << step.request;
      if (to_free.empty()) {
        ASSERT_LT(big_freed, stored) << step.request << " never fitted";
        to_free.push_back("key" + std::to_string(big_freed++));
      }
      reply_to(*handler_, cmd({"DEL", to_free.back()}));
      to_free.pop_back();
    }
    EXPECT_GT(refused, 0) << step.request << " fitted in a full store";
    list = step.list_after;
    EXPECT_EQ(reply_to(*handler_, cmd({"LRANGE", "l", "0", "-1"})), list) << step.request;
  }
  EXPECT_EQ(reply_to(*handler_, cmd({"LRANGE", "moved", "0", "-1"})), bulks({"a"}));
}

// ---- Options -------------------------------------------------------------------------------

std::unique_ptr<ProtocolFactory> factory_from(const std::string& yaml) {
  Section options("test.yaml", YAML::Load(yaml), "listeners[0].protocol.options");
  return make_resp_protocol(options);
}

std::string config_error(const std::string& yaml) {
  try {
    factory_from(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RespOptions, DefaultsAndRefusal) {
  auto factory = factory_from("{}");
  auto* resp = dynamic_cast<RespFactory*>(factory.get());
  ASSERT_NE(resp, nullptr);
  EXPECT_EQ(resp->settings().max_memory, 64u * 1024 * 1024);
  EXPECT_EQ(resp->settings().max_bulk_length, 512 * 1024);
  EXPECT_EQ(resp->settings().max_args, 1024 * 1024);
  EXPECT_EQ(resp->settings().pubsub_output_limit, 32u * 1024 * 1024);
  EXPECT_TRUE(resp->settings().requirepass.empty());
  EXPECT_EQ(factory->refusal(), "-ERR max number of clients reached\r\n");
}

TEST(RespOptions, ValuesAreRead) {
  auto factory =
      factory_from("{max_memory: 2MiB, requirepass: pw, max_bulk_length: 10, max_args: 3}");
  auto handler = factory->create(test::test_context());
  EXPECT_EQ(reply_to(*handler, cmd({"PING"})), err("NOAUTH Authentication required."));
  EXPECT_EQ(reply_to(*handler, cmd({"AUTH", "pw"})), kOk);
  EXPECT_EQ(reply_to(*handler, cmd({"CONFIG", "GET", "maxmemory"})),
            bulks({"maxmemory", "2097152"}));
  EXPECT_EQ(reply_to(*handler, cmd({"SET", "k", "1234567890"})), kOk);
  EXPECT_EQ(reply_to(*handler, cmd({"APPEND", "k", "1"})),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  EXPECT_EQ(reply_to(*handler, cmd({"SET", "k", "12345678901"})),
            err("ERR Protocol error: invalid bulk length"));
  auto other = factory->create(test::test_context());
  EXPECT_EQ(reply_to(*other, cmd({"AUTH", "pw"})), kOk);
  EXPECT_EQ(reply_to(*other, cmd({"MSET", "a", "1", "b", "2"})),
            err("ERR Protocol error: invalid multibulk length"));
}

TEST(RespOptions, UnknownKeyIsReportedWhereItIs) {
  EXPECT_NE(config_error("{max_memroy: 1MiB}")
                .find("test.yaml:1:2: listeners[0].protocol.options.max_memroy: unknown key"),
            std::string::npos);
}

TEST(RespOptions, RangesAreChecked) {
  EXPECT_NE(config_error("{max_memory: 1000}").find("options.max_memory"), std::string::npos);
  EXPECT_NE(config_error("{max_bulk_length: 0}").find("options.max_bulk_length"),
            std::string::npos);
  EXPECT_NE(config_error("{max_args: 0}").find("options.max_args"), std::string::npos);
  EXPECT_NE(config_error("{pubsub_output_limit: 10}").find("options.pubsub_output_limit"),
            std::string::npos);
  auto factory = factory_from("{pubsub_output_limit: 1KiB}");
  EXPECT_EQ(dynamic_cast<RespFactory&>(*factory).settings().pubsub_output_limit, 1024u);
  EXPECT_NE(config_error("{max_memory: lots}").find("options.max_memory"), std::string::npos);
}

}  // namespace
}  // namespace srv
