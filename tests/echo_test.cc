#include "protocols/echo.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/section.h"
#include "server/buffer.h"
#include "server/protocol.h"
#include "tests/handler_driver.h"
#include "tests/test_context.h"

namespace srv {
namespace {

using test::HandlerDriver;
using test::split_bytes;
using test::split_every;
using test::split_in_two;
using test::verdict_name;

struct EchoCase {
  std::string name;
  std::string input;
  std::string expected;
};

// gtest prints a parameter in test listings and failures; the name is enough.
void PrintTo(const EchoCase& c, std::ostream* os) {
  *os << c.name << " (" << c.input.size() << " bytes)";
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(byte(rng));
  return out;
}

std::vector<EchoCase> echo_cases() {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::string binary("\0a\0\0b\xff\r\n\0", 9);
  const std::string big = random_bytes(100 * 1024, 20240601);
  return {
      {"Empty", "", ""},
      {"OneByte", "x", "x"},
      {"Line", "hello\r\n", "hello\r\n"},
      {"BinaryWithNuls", binary, binary},
      {"AllByteValues", all_bytes, all_bytes},
      {"Random100KiB", big, big},
  };
}

// Where two byte strings first differ, without printing 100 KiB on failure.
::testing::AssertionResult same_bytes(std::string_view got, std::string_view want) {
  if (got == want) return ::testing::AssertionSuccess();
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at offset " << i;
}

// Feeds `pieces` to a fresh EchoHandler through the driver and checks everything a connection
// would observe.
::testing::AssertionResult echo_matches(const EchoCase& c,
                                        const std::vector<std::string_view>& pieces) {
  EchoHandler handler;
  HandlerDriver driver = test::drive(handler, pieces);
  if (auto same = same_bytes(driver.sent(), c.expected); !same) return same;
  std::size_t non_empty = 0;
  for (std::string_view piece : pieces) non_empty += piece.empty() ? 0 : 1;
  // Echo consumes everything it is given, so each chunk that carries bytes costs one call.
  if (driver.on_data_calls() != non_empty) {
    return ::testing::AssertionFailure()
           << driver.on_data_calls() << " on_data calls for " << non_empty << " non-empty chunks";
  }
  for (std::size_t i = 0; i < driver.data_verdicts().size(); ++i) {
    if (driver.data_verdicts()[i] != Verdict::kContinue) {
      return ::testing::AssertionFailure()
             << "on_data call " << i << " returned " << verdict_name(driver.data_verdicts()[i]);
    }
  }
  if (driver.overconsumed()) return ::testing::AssertionFailure() << "consumed more than given";
  if (!driver.eof_called()) return ::testing::AssertionFailure() << "on_eof was not reached";
  if (!driver.eof_rest().empty()) {
    return ::testing::AssertionFailure()
           << driver.eof_rest().size() << " bytes left unconsumed at EOF";
  }
  if (driver.eof_verdict() != Verdict::kCloseAfterFlush) {
    return ::testing::AssertionFailure()
           << "on_eof returned " << verdict_name(driver.eof_verdict());
  }
  return ::testing::AssertionSuccess();
}

class EchoTable : public ::testing::TestWithParam<EchoCase> {};

TEST_P(EchoTable, WholeInputInOneChunk) {
  const EchoCase& c = GetParam();
  EXPECT_TRUE(echo_matches(c, {c.input}));
}

TEST_P(EchoTable, SplitInTwoAtEveryPoint) {
  const EchoCase& c = GetParam();
  for (std::size_t at = 0; at <= c.input.size(); ++at) {
    auto result = echo_matches(c, split_in_two(c.input, at));
    if (!result) {
      ADD_FAILURE() << "split at " << at << " of " << c.input.size() << ": " << result.message();
      return;  // one report is enough; the rest would repeat it
    }
  }
}

TEST_P(EchoTable, ByteByByte) {
  const EchoCase& c = GetParam();
  EXPECT_TRUE(echo_matches(c, split_bytes(c.input)));
}

TEST_P(EchoTable, FixedSizeChunks) {
  const EchoCase& c = GetParam();
  for (std::size_t size : {2, 3, 7, 512, 4096, 65536}) {
    EXPECT_TRUE(echo_matches(c, split_every(c.input, size))) << "chunks of " << size;
  }
}

INSTANTIATE_TEST_SUITE_P(Echo, EchoTable, ::testing::ValuesIn(echo_cases()),
                         [](const ::testing::TestParamInfo<EchoCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(EchoHandler, ConsumesAllAndAppendsAfterExistingOutput) {
  EchoHandler handler;
  Buffer out;
  out.append("earlier:");
  Step step = handler.on_data("abc", out);
  EXPECT_EQ(step.consumed, 3u);
  EXPECT_EQ(step.verdict, Verdict::kContinue);
  EXPECT_EQ(out.readable(), "earlier:abc");
}

TEST(EchoHandler, EofClosesAfterFlushWithoutWriting) {
  EchoHandler handler;
  Buffer out;
  EXPECT_EQ(handler.on_eof("", out), Verdict::kCloseAfterFlush);
  EXPECT_TRUE(out.empty());
}

TEST(EchoHandler, OneHandlerServesManyChunks) {
  // The handler keeps no state, so a long conversation is the concatenation of its parts.
  EchoHandler handler;
  HandlerDriver driver(handler);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string chunk = "message " + std::to_string(i) + "\n";
    driver.feed(chunk);
    expected += chunk;
  }
  driver.finish();
  EXPECT_TRUE(same_bytes(driver.sent(), expected));
  EXPECT_EQ(driver.eof_verdict(), Verdict::kCloseAfterFlush);
}

TEST(EchoProtocol, FactoryMakesIndependentHandlersAndRefusesSilently) {
  Section options("test.yaml", YAML::Node(YAML::NodeType::Map), "protocol.options");
  auto factory = make_echo_protocol(options);
  ASSERT_NE(factory, nullptr);
  auto a = factory->create(test::test_context());
  auto b = factory->create(test::test_context());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a.get(), b.get());
  EXPECT_TRUE(factory->refusal().empty());
  Buffer out;
  EXPECT_EQ(a->on_data("ping", out).consumed, 4u);
  EXPECT_EQ(out.readable(), "ping");
}

TEST(EchoProtocol, RejectsAnyOption) {
  YAML::Node node = YAML::Load("{colour: blue}");
  Section options("test.yaml", node, "listeners[0].protocol.options");
  try {
    make_echo_protocol(options);
    FAIL() << "echo accepted an option";
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("test.yaml:1:2: listeners[0].protocol.options.colour: unknown key"),
              std::string::npos)
        << what;
  }
}

// The driver itself: the contract later protocol tests rely on, checked with handlers whose
// behaviour differs from echo.

// Consumes one complete line per call and answers it upper-cased; "quit" closes after flush,
// "kill" closes at once; an incomplete line at EOF is answered with "partial:<rest>".
class LineHandler final : public ProtocolHandler {
 public:
  Step on_data(std::string_view in, Buffer& out) override {
    offers.emplace_back(in);
    auto nl = in.find('\n');
    if (nl == std::string_view::npos) return {0, Verdict::kContinue};
    std::string line(in.substr(0, nl));
    if (line == "quit") return {nl + 1, Verdict::kCloseAfterFlush};
    if (line == "kill") return {nl + 1, Verdict::kCloseNow};
    for (char& ch : line) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out.append(line + "\n");
    return {nl + 1, Verdict::kContinue};
  }
  Verdict on_eof(std::string_view rest, Buffer& out) override {
    if (!rest.empty()) out.append("partial:" + std::string(rest));
    return Verdict::kCloseAfterFlush;
  }
  std::vector<std::string> offers;
};

TEST(HandlerDriver, ReoffersUnconsumedBytesWithNewOnesAppended) {
  LineHandler handler;
  HandlerDriver driver(handler);
  driver.feed("ab");
  driver.feed("c\nde");
  driver.feed("f\ng\n");
  driver.finish();
  EXPECT_EQ(driver.sent(), "ABC\nDEF\nG\n");
  // "ab" (waits), "abc\nde" (one line), "de" (waits), "def\ng\n", "g\n".
  EXPECT_EQ(handler.offers, (std::vector<std::string>{"ab", "abc\nde", "de", "def\ng\n", "g\n"}));
  EXPECT_EQ(driver.consumed(), (std::vector<std::size_t>{0, 4, 0, 4, 2}));
  EXPECT_EQ(driver.eof_rest(), "");
}

TEST(HandlerDriver, PassesUnconsumedBytesToEof) {
  LineHandler handler;
  HandlerDriver driver(handler);
  driver.feed("one\ntw");
  driver.finish();
  EXPECT_EQ(driver.sent(), "ONE\npartial:tw");
  EXPECT_EQ(driver.eof_rest(), "tw");
  EXPECT_TRUE(driver.pending_input().empty());
}

TEST(HandlerDriver, StopsFeedingAfterCloseAfterFlush) {
  LineHandler handler;
  HandlerDriver driver(handler);
  driver.feed("a\nquit\nb\n");
  driver.feed("c\n");
  driver.finish();
  EXPECT_EQ(driver.sent(), "A\n");
  EXPECT_FALSE(driver.eof_called());
  EXPECT_FALSE(driver.closed_now());
  EXPECT_EQ(driver.data_verdicts().back(), Verdict::kCloseAfterFlush);
}

TEST(HandlerDriver, RecordsCloseNow) {
  LineHandler handler;
  HandlerDriver driver(handler);
  driver.feed("kill\nx\n");
  EXPECT_TRUE(driver.closed_now());
  EXPECT_EQ(driver.on_data_calls(), 1u);
}

TEST(HandlerDriver, EmptyChunkIsNotOffered) {
  LineHandler handler;
  HandlerDriver driver(handler);
  driver.feed("");
  EXPECT_EQ(driver.on_data_calls(), 0u);
}

TEST(HandlerDriver, DetectsOverconsumption) {
  class Greedy final : public ProtocolHandler {
   public:
    Step on_data(std::string_view in, Buffer&) override { return {in.size() + 1}; }
  } greedy;
  HandlerDriver driver(greedy);
  driver.feed("x");
  EXPECT_TRUE(driver.overconsumed());
  EXPECT_FALSE(driver.reading());
}

}  // namespace
}  // namespace srv
