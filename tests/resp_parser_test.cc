#include "protocols/resp_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "server/buffer.h"
#include "tests/handler_driver.h"

namespace srv {
namespace {

using test::split_bytes;
using test::split_in_two;

// ---- parse_redis_int: Redis's string2ll ------------------------------------------------------

TEST(ParseRedisInt, AcceptsWhatString2llAccepts) {
  EXPECT_EQ(parse_redis_int("0"), 0);
  EXPECT_EQ(parse_redis_int("7"), 7);
  EXPECT_EQ(parse_redis_int("-7"), -7);
  EXPECT_EQ(parse_redis_int("1234567890"), 1234567890);
  EXPECT_EQ(parse_redis_int("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_redis_int("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
}

TEST(ParseRedisInt, RejectsWhatString2llRejects) {
  for (std::string_view text : {"", "-", "+1", " 1", "1 ", "01", "-0", "00", "1.0", "1e3", "0x10",
                                "abc", "9223372036854775808", "-9223372036854775809",
                                "99999999999999999999", "123456789012345678901"}) {
    EXPECT_EQ(parse_redis_int(text), std::nullopt) << "'" << text << "'";
  }
  EXPECT_EQ(parse_redis_int(std::string_view("1\0", 2)), std::nullopt);
}

// ---- The parser, fed like a connection feeds a handler ----------------------------------------

// What parsing a whole input produced: the commands in order, then how it ended.
struct Outcome {
  std::vector<std::vector<std::string>> commands;
  std::size_t empties = 0;  // kEmpty results (skipped lines, `*0`)
  std::string error;        // the kError message, if parsing ended with one
  std::string left;         // bytes never consumed (an incomplete command)
};

bool operator==(const Outcome& a, const Outcome& b) {
  return a.commands == b.commands && a.empties == b.empties && a.error == b.error &&
         a.left == b.left;
}

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{commands:";
  for (const auto& command : o.commands) {
    *os << " [";
    for (const auto& arg : command) *os << ::testing::PrintToString(arg) << ' ';
    *os << ']';
  }
  *os << ", empties: " << o.empties << ", error: '" << o.error
      << "', left: " << ::testing::PrintToString(o.left) << '}';
}

// Appends each chunk to an input buffer and parses from its front while commands complete, as
// RespHandler does under Connection: unconsumed bytes are offered again with the next chunk.
Outcome parse_chunks(const std::vector<std::string_view>& chunks, const ParseLimits& limits = {}) {
  RespParser parser;
  Buffer input;
  Outcome outcome;
  for (std::string_view chunk : chunks) {
    input.append(chunk);
    for (;;) {
      ParseResult result = parser.parse(input.readable(), limits);
      if (result.status == ParseStatus::kIncomplete) {
        EXPECT_EQ(result.consumed, 0u);
        break;
      }
      if (result.status == ParseStatus::kError) {
        outcome.error = parser.error();
        return outcome;
      }
      EXPECT_GT(result.consumed, 0u);
      if (result.status == ParseStatus::kEmpty) {
        ++outcome.empties;
      } else {
        std::vector<std::string> args;
        for (std::string_view arg : parser.args()) args.emplace_back(arg);
        outcome.commands.push_back(args);
      }
      input.consume(result.consumed);
    }
  }
  outcome.left = std::string(input.readable());
  return outcome;
}

struct ParserCase {
  std::string name;
  std::string input;
  Outcome expected;
  ParseLimits limits = {};
};

void PrintTo(const ParserCase& c, std::ostream* os) {
  *os << c.name;
}

using Commands = std::vector<std::vector<std::string>>;

Outcome commands(Commands c, std::string left = "", std::size_t empties = 0) {
  return {std::move(c), empties, "", std::move(left)};
}
Outcome error_after(std::string message, Commands c = {}, std::size_t empties = 0) {
  return {std::move(c), empties, "Protocol error: " + std::move(message), ""};
}

ParseLimits unauthenticated() {
  ParseLimits limits;
  limits.unauthenticated = true;
  return limits;
}

// Expected outcomes follow Redis 7.0 (networking.c, sds.c) and were checked against
// redis-server 7.0.15 with the same bytes.
std::vector<ParserCase> parser_cases() {
  const std::string nul_arg("*2\r\n$3\r\nfoo\r\n$1\r\n\0\r\n", 20);
  const std::string binary("a\0b\r\nc", 6);
  const std::string binary_command = "*2\r\n$4\r\nECHO\r\n$6\r\n" + binary + "\r\n";
  const std::string big(100000, 'v');
  const std::string big_command = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + big + "\r\n";
  ParseLimits small;
  small.max_bulk_length = 5;
  small.max_args = 3;
  return {
      // Multibulk.
      {"MultibulkOne", "*1\r\n$4\r\nPING\r\n", commands({{"PING"}})},
      {"MultibulkTwo", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", commands({{"GET", "k"}})},
      {"MultibulkPipelined", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
       commands({{"PING"}, {"ECHO", "hi"}})},
      {"MultibulkEmptyArgument", "*1\r\n$0\r\n\r\n", commands({{""}})},
      {"MultibulkBinaryArgument", binary_command, commands({{"ECHO", binary}})},
      {"MultibulkNulArgument", nul_arg, commands({{"foo", std::string(1, '\0')}})},
      {"MultibulkLargeArgument", big_command, commands({{"SET", "k", big}}), ParseLimits{200000}},
      {"MultibulkIncomplete", "*2\r\n$3\r\nGET\r\n$1\r\n",
       commands({}, "*2\r\n$3\r\nGET\r\n$1\r\n")},
      {"MultibulkIncompleteAfterOne", "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI",
       commands({{"PING"}}, "*1\r\n$4\r\nPI")},
      // Redis skips the two bytes after a payload and after a header's CR without looking.
      {"TrailerNotChecked", "*1\r\n$4\r\nPINGxx*1\rx$4\r\nPING\r\n",
       commands({{"PING"}, {"PING"}})},
      {"ZeroCountIsEmpty", "*0\r\n*1\r\n$4\r\nPING\r\n", commands({{"PING"}}, "", 1)},
      {"NegativeCountIsEmpty", "*-10\r\nPING\r\n", commands({{"PING"}}, "", 1)},
      {"InvalidCountLeadingZero", "*01\r\n", error_after("invalid multibulk length")},
      {"InvalidCountPlus", "*+1\r\n", error_after("invalid multibulk length")},
      {"InvalidCountEmpty", "*\r\n", error_after("invalid multibulk length")},
      {"InvalidCountText", "*abc\r\n", error_after("invalid multibulk length")},
      {"CountOverMaxArgs", "*20000000\r\n", error_after("invalid multibulk length")},
      {"CountOutOfRange", "*3000000000000000000000\r\n", error_after("invalid multibulk length")},
      {"CountAtMaxArgs", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", commands({{"a", "b", "c"}}),
       small},
      {"CountOverSmallMaxArgs", "*4\r\n", error_after("invalid multibulk length"), small},
      {"ExpectedDollar", "*1\r\nfoo\r\n", error_after("expected '$', got 'f'")},
      {"ExpectedDollarGotPlus", "*1\r\n+PING\r\n", error_after("expected '$', got '+'")},
      {"WrongPayloadHeader", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
       error_after("expected '$', got 'f'")},
      {"NegativeBulkLength", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
       error_after("invalid bulk length")},
      {"BulkLengthOutOfRange", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
       error_after("invalid bulk length")},
      {"BulkLengthNotANumber", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
       error_after("invalid bulk length")},
      {"BulkLengthEmpty", "*1\r\n$\r\n", error_after("invalid bulk length")},
      {"BulkLengthLeadingZero", "*1\r\n$04\r\nPING\r\n", error_after("invalid bulk length")},
      {"BulkLengthNullIsInvalid", "*1\r\n$-1\r\n", error_after("invalid bulk length")},
      {"BulkAtMaxLength", "*1\r\n$5\r\nabcde\r\n", commands({{"abcde"}}), small},
      {"BulkOverMaxLength", "*1\r\n$6\r\n", error_after("invalid bulk length"), small},
      {"ErrorAfterGoodCommand", "*1\r\n$4\r\nPING\r\n*1\r\nx\r\n",
       error_after("expected '$', got 'x'", {{"PING"}})},
      // Inline.
      {"InlineOne", "PING\r\n", commands({{"PING"}})},
      {"InlineLfOnly", "PING\n", commands({{"PING"}})},
      {"InlineArguments", "SET key value\r\n", commands({{"SET", "key", "value"}})},
      {"InlineBlanks", "  SET \t key   value  \r\n", commands({{"SET", "key", "value"}})},
      {"InlineOnlyOneCrStripped", "PING\r\r\n", commands({{"PING"}})},
      {"InlineEmptyLinesSkipped", "\r\n\n   \r\nPING\r\n", commands({{"PING"}}, "", 3)},
      {"InlineDoubleQuotes", "ECHO \"a b\"\r\n", commands({{"ECHO", "a b"}})},
      {"InlineEscapes", "ECHO \"\\x41\\x4g\\n\\t\\r\\a\\b\\z\\\"q\"\r\n",
       commands({{"ECHO", "Ax4g\n\t\r\a\bz\"q"}})},
      {"InlineSingleQuotes", "ECHO 'it\\'s' 'a\\nb'\r\n", commands({{"ECHO", "it's", "a\\nb"}})},
      {"InlineEmptyQuotes", "ECHO \"\" ''\r\n", commands({{"ECHO", "", ""}})},
      {"InlineQuoteInsideWord", "ECHO a\"b c\"\r\n", commands({{"ECHO", "ab c"}})},
      {"InlineVerticalTabInsideWord", "ECHO \vx\vy\r\n", commands({{"ECHO", "x\vy"}})},
      {"InlineUnbalancedDouble", "ECHO \"abc\r\n", error_after("unbalanced quotes in request")},
      {"InlineUnbalancedSingle", "ECHO 'abc\r\n", error_after("unbalanced quotes in request")},
      {"InlineTextAfterQuote", "ECHO \"x\"y\r\n", error_after("unbalanced quotes in request")},
      {"InlineTripleQuotes", "set \"\"\"test-key\"\"\" test-value\r\nping\r\n",
       error_after("unbalanced quotes in request")},
      {"InlineBackslashAtEnd", "ECHO \"a\\\r\n", error_after("unbalanced quotes in request")},
      {"InlineIncomplete", "PING", commands({}, "PING")},
      // strchr stops at NUL: such a line never completes (until it is too big).
      {"InlineNulNeverCompletes", std::string("foo\0bar\r\nPING\r\n", 14),
       commands({}, std::string("foo\0bar\r\nPING\r\n", 14))},
      {"InlineAtLimitWaits", std::string(kMaxInlineLength, 'A'),
       commands({}, std::string(kMaxInlineLength, 'A'))},
      {"InlineOverLimit", std::string(kMaxInlineLength + 1, 'A'),
       error_after("too big inline request")},
      // Redis's protocol desync regression tests: "\x00", "*\x00" and "$\x00" then junk.
      {"DesyncNul", std::string(1, '\0') + std::string(70000, 'A'),
       error_after("too big inline request")},
      {"DesyncStarNul", std::string("*\0", 2) + std::string(70000, 'A'),
       error_after("too big mbulk count string")},
      {"DesyncDollarNul", std::string("$\0", 2) + std::string(70000, 'A'),
       error_after("too big inline request")},
      {"BulkCountTooBig", "*1\r\n$" + std::string(70000, '1'),
       error_after("too big bulk count string")},
      {"MixedInlineAndMultibulk", "PING\r\n*1\r\n$4\r\nPING\r\nECHO x\n",
       commands({{"PING"}, {"PING"}, {"ECHO", "x"}})},
      // Clients that still have to AUTH: at most 10 arguments of at most 16 KiB.
      {"UnauthenticatedTenArgs", "*10\r\n", commands({}, "*10\r\n"), unauthenticated()},
      {"UnauthenticatedElevenArgs", "*11\r\n", error_after("unauthenticated multibulk length"),
       unauthenticated()},
      {"UnauthenticatedBulk16K", "*1\r\n$16384\r\n", commands({}, "*1\r\n$16384\r\n"),
       unauthenticated()},
      {"UnauthenticatedBulkOver16K", "*1\r\n$16385\r\n", error_after("unauthenticated bulk length"),
       unauthenticated()},
  };
}

class ParserTable : public ::testing::TestWithParam<ParserCase> {};

TEST_P(ParserTable, WholeInput) {
  const ParserCase& c = GetParam();
  EXPECT_EQ(parse_chunks({c.input}, c.limits), c.expected);
}

TEST_P(ParserTable, SplitInTwoAtEveryPoint) {
  const ParserCase& c = GetParam();
  // Large inputs: every point near the start and the end, and a stride through the middle.
  std::size_t stride = c.input.size() > 4096 ? 997 : 1;
  for (std::size_t at = 0; at <= c.input.size();
       at += (at < 64 || at + 64 > c.input.size()) ? 1 : stride) {
    Outcome got = parse_chunks(split_in_two(c.input, at), c.limits);
    if (got != c.expected) {
      ADD_FAILURE() << "split at " << at << ": got " << ::testing::PrintToString(got) << ", want "
                    << ::testing::PrintToString(c.expected);
      return;
    }
  }
}

TEST_P(ParserTable, ByteByByte) {
  const ParserCase& c = GetParam();
  EXPECT_EQ(parse_chunks(split_bytes(c.input), c.limits), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Resp, ParserTable, ::testing::ValuesIn(parser_cases()),
                         [](const ::testing::TestParamInfo<ParserCase>& param_info) {
                           return param_info.param.name;
                         });

// ---- Properties beyond the table --------------------------------------------------------------

TEST(RespParser, MultibulkArgumentsPointIntoTheInput) {
  const std::string input = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  RespParser parser;
  ParseResult result = parser.parse(input, {});
  ASSERT_EQ(result.status, ParseStatus::kCommand);
  EXPECT_EQ(result.consumed, input.size());
  ASSERT_EQ(parser.args().size(), 3u);
  // Zero copy: each view is the payload inside `input` itself.
  EXPECT_EQ(parser.args()[0].data(), input.data() + 8);
  EXPECT_EQ(parser.args()[1].data(), input.data() + 17);
  EXPECT_EQ(parser.args()[2].data(), input.data() + 26);
}

TEST(RespParser, ResumesWithoutRescanningWhatItParsed) {
  // After kIncomplete, the next call continues from the saved offsets: changing a byte that was
  // already parsed (which the handler contract forbids) is not looked at again. This shows the
  // parser resumes rather than re-parsing from the start.
  std::string input = "*2\r\n$4\r\nECHO\r\n$5\r\nhel";
  RespParser parser;
  EXPECT_EQ(parser.parse(input, {}).status, ParseStatus::kIncomplete);
  input[8] = 'X';  // inside "ECHO", already parsed
  input += "lo\r\n";
  ParseResult result = parser.parse(input, {});
  ASSERT_EQ(result.status, ParseStatus::kCommand);
  EXPECT_EQ(parser.args()[0], "XCHO");  // the view points at the (changed) bytes in place
  EXPECT_EQ(parser.args()[1], "hello");
}

TEST(RespParser, StartsOverWhenOfferedLessThanItParsed) {
  RespParser parser;
  EXPECT_EQ(parser.parse("*2\r\n$4\r\nECHO\r\n$5\r\nhel", {}).status, ParseStatus::kIncomplete);
  // A caller that dropped its input: the saved offsets no longer fit, so parsing restarts.
  ParseResult result = parser.parse("PING\r\n", {});
  ASSERT_EQ(result.status, ParseStatus::kCommand);
  EXPECT_EQ(parser.args()[0], "PING");
}

TEST(RespParser, ResetForgetsAPartialCommand) {
  RespParser parser;
  EXPECT_EQ(parser.parse("*2\r\n$4\r\nECHO\r\n", {}).status, ParseStatus::kIncomplete);
  parser.reset();
  ParseResult result = parser.parse("PING\r\n", {});
  ASSERT_EQ(result.status, ParseStatus::kCommand);
  EXPECT_EQ(result.consumed, 6u);
}

TEST(RespParser, HugeAnnouncedCountCostsNothingUpFront) {
  // `*1000000` passes max_args but only memory for arguments that arrived may be used.
  RespParser parser;
  EXPECT_EQ(parser.parse("*1000000\r\n$1\r\na\r\n", {}).status, ParseStatus::kIncomplete);
}

TEST(RespParser, ManyArgumentsByteByByteStaysLinear) {
  // 20000 arguments fed one byte at a time: a parser that re-parsed from the start on every
  // byte would take ~10^10 steps here; the resumable one finishes at once.
  std::string input = "*20000\r\n";
  for (int i = 0; i < 20000; ++i) input += "$1\r\nx\r\n";
  RespParser parser;
  Buffer buffer;
  std::size_t completed = 0;
  for (char c : input) {
    buffer.append(std::string_view(&c, 1));
    ParseResult result = parser.parse(buffer.readable(), {});
    if (result.status == ParseStatus::kCommand) {
      ++completed;
      EXPECT_EQ(parser.args().size(), 20000u);
      buffer.consume(result.consumed);
    }
  }
  EXPECT_EQ(completed, 1u);
}

TEST(RespParser, InlineArgumentsSurviveUntilTheNextParse) {
  RespParser parser;
  std::string input = "SET \"a b\" c\r\n";
  ASSERT_EQ(parser.parse(input, {}).status, ParseStatus::kCommand);
  input.assign(input.size(), 'Z');  // inline arguments live in the parser, not in the input
  ASSERT_EQ(parser.args().size(), 3u);
  EXPECT_EQ(parser.args()[1], "a b");
  EXPECT_EQ(parser.args()[2], "c");
}

}  // namespace
}  // namespace srv
