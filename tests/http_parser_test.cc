#include "protocols/http_parser.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/http_chunked.h"

namespace srv::http {
namespace {

// ---- Request heads ---------------------------------------------------------------------------

struct HeadCase {
  std::string name;
  std::string input;
  ParseStatus status;
  std::size_t consumed = 0;  // for kComplete
  std::string method = {};
  std::string target = {};
  int major = 1;
  int minor = 1;
  std::vector<std::pair<std::string, std::string>> headers = {};
};

void PrintTo(const HeadCase& c, std::ostream* os) {
  *os << c.name;
}

const char* status_name(ParseStatus s) {
  switch (s) {
    case ParseStatus::kComplete:
      return "kComplete";
    case ParseStatus::kIncomplete:
      return "kIncomplete";
    case ParseStatus::kInvalid:
      return "kInvalid";
    case ParseStatus::kTooManyHeaders:
      return "kTooManyHeaders";
  }
  return "?";
}

std::string many_headers(int n) {
  std::string s = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < n; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
  return s + "\r\n";
}

constexpr std::string_view kSimple = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

std::vector<HeadCase> head_cases() {
  std::vector<HeadCase> cases = {
      {"Simple",
       std::string(kSimple),
       ParseStatus::kComplete,
       kSimple.size(),
       "GET",
       "/",
       1,
       1,
       {{"Host", "example.com"}}},
      {"NoHeaders10", "GET /a?b=c HTTP/1.0\r\n\r\n", ParseStatus::kComplete, 23, "GET", "/a?b=c", 1,
       0},
      {"LeadingEmptyLinesSkipped",
       "\r\n\r\nHEAD / HTTP/1.1\r\nHost: h\r\n\r\n",
       ParseStatus::kComplete,
       32,
       "HEAD",
       "/",
       1,
       1,
       {{"Host", "h"}}},
      {"OwsTrimmedEmptyValueKept",
       "POST /echo HTTP/1.1\r\nA:   spaced \t \r\nB:\r\nC:x y\r\n\r\n",
       ParseStatus::kComplete,
       50,
       "POST",
       "/echo",
       1,
       1,
       {{"A", "spaced"}, {"B", ""}, {"C", "x y"}}},
      {"DuplicatesKeptInOrder",
       "GET / HTTP/1.1\r\nX: 1\r\nx: 2\r\n\r\n",
       ParseStatus::kComplete,
       30,
       "GET",
       "/",
       1,
       1,
       {{"X", "1"}, {"x", "2"}}},
      {"StopsAtEndOfHead",
       std::string(kSimple) + "body bytes",
       ParseStatus::kComplete,
       kSimple.size(),
       "GET",
       "/",
       1,
       1,
       {{"Host", "example.com"}}},
      {"PipelinedStopsAtFirst",
       std::string(kSimple) + std::string(kSimple),
       ParseStatus::kComplete,
       kSimple.size(),
       "GET",
       "/",
       1,
       1,
       {{"Host", "example.com"}}},
      {"ObsTextInValue",
       "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n",
       ParseStatus::kComplete,
       28,
       "GET",
       "/",
       1,
       1,
       {{"X", "caf\xc3\xa9"}}},
      {"AbsoluteFormAndOtherVersion", "OPTIONS http://h:80/x HTTP/2.0\r\n\r\n",
       ParseStatus::kComplete, 34, "OPTIONS", "http://h:80/x", 2, 0},
      {"TokenMethod", "M-SEARCH * HTTP/1.1\r\n\r\n", ParseStatus::kComplete, 23, "M-SEARCH", "*"},
      {"HundredHeadersFit", many_headers(100), ParseStatus::kComplete, many_headers(100).size(),
       "GET", "/"},
      {"Empty", "", ParseStatus::kIncomplete},
      {"OnlyCrlf", "\r\n", ParseStatus::kIncomplete},
      {"NoEndYet", "GET / HTTP/1.1\r\nHost: x\r\n", ParseStatus::kIncomplete},
      {"HalfOfFinalCrlf", "GET / HTTP/1.1\r\nHost: x\r\n\r", ParseStatus::kIncomplete},
      // Invalid: each one breaks exactly one rule.
      {"BareLfEndsRequestLine", "GET / HTTP/1.1\nHost: x\r\n\r\n", ParseStatus::kInvalid},
      {"BareLfEndsHeader", "GET / HTTP/1.1\r\nHost: x\n\r\n", ParseStatus::kInvalid},
      {"BareLfEndsHead", "GET / HTTP/1.1\r\nHost: x\r\n\n", ParseStatus::kInvalid},
      {"BareLfBeforeRequest", "\nGET / HTTP/1.1\r\n\r\n", ParseStatus::kInvalid},
      {"BareCrInValue", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", ParseStatus::kInvalid},
      {"ObsFold", "GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n", ParseStatus::kInvalid},
      {"ObsFoldTab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", ParseStatus::kInvalid},
      {"SpaceBeforeFirstHeader", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", ParseStatus::kInvalid},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", ParseStatus::kInvalid},
      {"EmptyFieldName", "GET / HTTP/1.1\r\n: x\r\n\r\n", ParseStatus::kInvalid},
      {"NoColon", "GET / HTTP/1.1\r\nHost\r\n\r\n", ParseStatus::kInvalid},
      {"NulInValue", std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26), ParseStatus::kInvalid},
      {"DelInValue", "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", ParseStatus::kInvalid},
      {"BadMethodChar", "G(T / HTTP/1.1\r\n\r\n", ParseStatus::kInvalid},
      {"EmptyMethod", " / HTTP/1.1\r\n\r\n", ParseStatus::kInvalid},
      {"TwoSpaces", "GET  / HTTP/1.1\r\n\r\n", ParseStatus::kInvalid},
      {"NoVersion", "GET /\r\n\r\n", ParseStatus::kInvalid},
      {"LowercaseVersion", "GET / http/1.1\r\n\r\n", ParseStatus::kInvalid},
      {"TwoDigitVersion", "GET / HTTP/11.1\r\n\r\n", ParseStatus::kInvalid},
      {"TrailingAfterVersion", "GET / HTTP/1.1 \r\n\r\n", ParseStatus::kInvalid},
      {"ControlInTarget", "GET /a\x01 HTTP/1.1\r\n\r\n", ParseStatus::kInvalid},
      {"RawHighByteInTarget", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", ParseStatus::kInvalid},
      {"GarbageLine", "HELLO\r\n\r\n", ParseStatus::kInvalid},
      {"ControlInValueNoLineEnd",
       "GET / HTTP/1.1\r\nX: a\x07"
       "b",
       ParseStatus::kInvalid},
      {"TooManyHeaders", many_headers(101), ParseStatus::kTooManyHeaders},
  };
  return cases;
}

class HeadTable : public ::testing::TestWithParam<HeadCase> {};

TEST_P(HeadTable, WholeInput) {
  const HeadCase& c = GetParam();
  RequestHead head;
  ParseResult r = parse_request_head(c.input, head);
  ASSERT_EQ(r.status, c.status) << status_name(r.status);
  if (c.status != ParseStatus::kComplete) {
    EXPECT_EQ(r.consumed, 0u);
    return;
  }
  EXPECT_EQ(r.consumed, c.consumed);
  EXPECT_EQ(head.method, c.method);
  EXPECT_EQ(head.target, c.target);
  EXPECT_EQ(head.version_major, c.major);
  EXPECT_EQ(head.version_minor, c.minor);
  if (c.name != "HundredHeadersFit") {
    ASSERT_EQ(head.headers().size(), c.headers.size());
    for (std::size_t i = 0; i < c.headers.size(); ++i) {
      EXPECT_EQ(head.headers()[i].name, c.headers[i].first) << i;
      EXPECT_EQ(head.headers()[i].value, c.headers[i].second) << i;
    }
  } else {
    EXPECT_EQ(head.headers().size(), kMaxHeaders);
  }
  // Zero copy: every view points into the input.
  auto inside = [&](std::string_view v) {
    return v.data() >= c.input.data() && v.data() + v.size() <= c.input.data() + c.input.size();
  };
  EXPECT_TRUE(inside(head.method));
  EXPECT_TRUE(inside(head.target));
  for (const Header& h : head.headers()) EXPECT_TRUE(inside(h.name) && inside(h.value));
}

// The skip a caller may take after an incomplete result must be safe: when the next byte only
// "continues" the pending token, the longer prefix is still incomplete.
TEST_P(HeadTable, ContinuesPendingIsSafe) {
  const HeadCase& c = GetParam();
  int skips = 0;
  for (std::size_t len = 0; len < c.input.size(); ++len) {
    RequestHead head;
    std::string_view in(c.input);
    ParseResult r = parse_request_head(in.substr(0, len), head);
    if (r.status != ParseStatus::kIncomplete) break;
    if (!continues_pending(r.pending, in.substr(len, 1))) continue;
    ++skips;
    ParseResult longer = parse_request_head(in.substr(0, len + 1), head);
    ASSERT_EQ(longer.status, ParseStatus::kIncomplete) << "prefix " << len + 1;
    ASSERT_EQ(longer.pending, r.pending) << "prefix " << len + 1;
  }
  if (c.status == ParseStatus::kComplete) {
    EXPECT_GT(skips, 0);
  }
}

// The parser is stateless: "split at every point" means every prefix of the input. A prefix of a
// complete head is incomplete; the verdict on an invalid input appears at some prefix and stays.
TEST_P(HeadTable, EveryPrefix) {
  const HeadCase& c = GetParam();
  bool failed_before = false;
  for (std::size_t len = 0; len <= c.input.size(); ++len) {
    RequestHead head;
    ParseResult r = parse_request_head(std::string_view(c.input).substr(0, len), head);
    if (c.status == ParseStatus::kComplete) {
      ParseStatus want = len < c.consumed ? ParseStatus::kIncomplete : ParseStatus::kComplete;
      ASSERT_EQ(r.status, want) << "prefix " << len << ": " << status_name(r.status);
      if (want == ParseStatus::kComplete) {
        ASSERT_EQ(r.consumed, c.consumed) << "prefix " << len;
      }
    } else if (failed_before) {
      ASSERT_EQ(r.status, c.status) << "prefix " << len << ": " << status_name(r.status);
    } else {
      ASSERT_TRUE(r.status == ParseStatus::kIncomplete || r.status == c.status)
          << "prefix " << len << ": " << status_name(r.status);
      failed_before = r.status == c.status && c.status != ParseStatus::kIncomplete;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Parser, HeadTable, ::testing::ValuesIn(head_cases()),
                         [](const ::testing::TestParamInfo<HeadCase>& p) { return p.param.name; });

TEST(HttpParserHelpers, ListsTokensAndCase) {
  std::vector<std::string> elements;
  for_each_element(" a , b,,c ", [&](std::string_view e) {
    elements.emplace_back(e);
    return true;
  });
  EXPECT_EQ(elements, (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(iequals("a", "A\x01"));
  EXPECT_TRUE(is_token("x-y.z~1"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("a b"));
  EXPECT_EQ(trim_ows("\t x \t"), "x");
}

// ---- Chunked bodies --------------------------------------------------------------------------

struct ChunkCase {
  std::string name;
  std::string input;
  ChunkedStatus status;
  std::string body = {};     // decoded, for kDone
  std::size_t consumed = 0;  // for kDone; 0 means the whole input
  std::uint64_t max_body = 1 << 20;
  std::size_t max_trailer = 1024;
};

void PrintTo(const ChunkCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<ChunkCase> chunk_cases() {
  return {
      {"OneChunk", "5\r\nhello\r\n0\r\n\r\n", ChunkedStatus::kDone, "hello"},
      {"SeveralChunksHexCase", "3\r\nabc\r\nA\r\n0123456789\r\n000a\r\nABCDEFGHIJ\r\n0\r\n\r\n",
       ChunkedStatus::kDone, "abc0123456789ABCDEFGHIJ"},
      {"EmptyBody", "0\r\n\r\n", ChunkedStatus::kDone, ""},
      {"BinaryData", std::string("4\r\n\0\r\n\xff\r\n0\r\n\r\n", 14), ChunkedStatus::kDone,
       std::string("\0\r\n\xff", 4)},
      {"Extensions", "5;name=value\r\nhello\r\n2 ; a=\"q s\";b\r\n!!\r\n0;last\r\n\r\n",
       ChunkedStatus::kDone, "hello!!"},
      {"Trailers", "2\r\nhi\r\n0\r\nX-Sum: 1\r\nOther:two \r\n\r\n", ChunkedStatus::kDone, "hi"},
      {"StopsAtEnd", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", ChunkedStatus::kDone, "x", 11},
      {"MaxBodyExactlyFits", "4\r\nabcd\r\n0\r\n\r\n", ChunkedStatus::kDone, "abcd", 0, 4},
      {"Unfinished", "5\r\nhel", ChunkedStatus::kNeedMore},
      {"UnfinishedTrailer", "0\r\nX: y\r\n", ChunkedStatus::kNeedMore},
      {"NonHexSize", "zz\r\n", ChunkedStatus::kInvalid},
      {"NegativeSize", "-1\r\n", ChunkedStatus::kInvalid},
      {"HexPrefix", "0x5\r\nhello\r\n0\r\n\r\n", ChunkedStatus::kInvalid},
      {"EmptySize", "\r\nhello\r\n", ChunkedStatus::kInvalid},
      {"LeadingSpace", " 5\r\nhello\r\n0\r\n\r\n", ChunkedStatus::kInvalid},
      {"SpaceWithoutExtension", "5 \r\nhello\r\n0\r\n\r\n", ChunkedStatus::kInvalid},
      {"Overflow", "10000000000000000\r\n", ChunkedStatus::kInvalid},
      {"LongOverflow", "fffffffffffffffffffff\r\n", ChunkedStatus::kInvalid},
      {"BareLfAfterSize", "5\nhello\r\n0\r\n\r\n", ChunkedStatus::kInvalid},
      {"DataLongerThanSize", "5\r\nhelloX\r\n0\r\n\r\n", ChunkedStatus::kInvalid},
      {"MissingCrlfAfterData", "5\r\nhello0\r\n\r\n", ChunkedStatus::kInvalid},
      {"BareLfAfterData", "5\r\nhello\n0\r\n\r\n", ChunkedStatus::kInvalid},
      {"ControlInExtension", "5;a\x01\r\nhello\r\n0\r\n\r\n", ChunkedStatus::kInvalid},
      {"TrailerObsFold", "0\r\nX: a\r\n b\r\n\r\n", ChunkedStatus::kInvalid},
      {"TrailerWithoutColon", "0\r\nX\r\n\r\n", ChunkedStatus::kInvalid},
      {"BareLfEndsBody", "0\r\n\n", ChunkedStatus::kInvalid},
      {"ExtensionTooLong", "1;" + std::string(ChunkedDecoder::kMaxChunkLine, 'a') + "\r\nx\r\n",
       ChunkedStatus::kInvalid},
      {"BodyTooLarge", "5\r\nhello\r\n0\r\n\r\n", ChunkedStatus::kBodyTooLarge, "", 0, 4},
      {"BodyTooLargeAcrossChunks", "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
       ChunkedStatus::kBodyTooLarge, "", 0, 5},
      {"HugeButValidSize", "ffffffffffffffff\r\n", ChunkedStatus::kBodyTooLarge},
      {"TrailersTooLarge", "0\r\nX-Long: " + std::string(100, 'v') + "\r\n\r\n",
       ChunkedStatus::kTrailersTooLarge, "", 0, 1 << 20, 64},
  };
}

struct Decoded {
  ChunkedStatus status = ChunkedStatus::kNeedMore;
  std::string body;
  std::size_t consumed = 0;
};

// Feeds `pieces` in order the way the handler does: each call gets the next piece, since the
// decoder consumes everything until it stops.
Decoded decode_pieces(const ChunkCase& c, const std::vector<std::string_view>& pieces) {
  ChunkedDecoder decoder;
  decoder.reset(c.max_body, c.max_trailer);
  Decoded d;
  for (std::string_view piece : pieces) {
    ChunkedResult r = decoder.decode(piece, &d.body);
    d.status = r.status;
    d.consumed += r.consumed;
    if (r.status != ChunkedStatus::kNeedMore) break;
    EXPECT_EQ(r.consumed, piece.size()) << "kNeedMore must consume everything";
  }
  return d;
}

::testing::AssertionResult decodes_as_expected(const ChunkCase& c, const Decoded& d) {
  if (d.status != c.status)
    return ::testing::AssertionFailure() << "status " << static_cast<int>(d.status);
  if (c.status == ChunkedStatus::kDone) {
    if (d.body != c.body) return ::testing::AssertionFailure() << "body '" << d.body << "'";
    std::size_t want = c.consumed ? c.consumed : c.input.size();
    if (d.consumed != want) return ::testing::AssertionFailure() << "consumed " << d.consumed;
  }
  return ::testing::AssertionSuccess();
}

class ChunkTable : public ::testing::TestWithParam<ChunkCase> {};

TEST_P(ChunkTable, WholeInput) {
  const ChunkCase& c = GetParam();
  EXPECT_TRUE(decodes_as_expected(c, decode_pieces(c, {c.input})));
}

TEST_P(ChunkTable, SplitInTwoAtEveryPoint) {
  const ChunkCase& c = GetParam();
  std::string_view in = c.input;
  for (std::size_t at = 0; at <= in.size(); ++at) {
    ASSERT_TRUE(decodes_as_expected(c, decode_pieces(c, {in.substr(0, at), in.substr(at)})))
        << "split at " << at;
  }
}

TEST_P(ChunkTable, ByteByByte) {
  const ChunkCase& c = GetParam();
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < c.input.size(); ++i)
    bytes.push_back(std::string_view(c.input).substr(i, 1));
  EXPECT_TRUE(decodes_as_expected(c, decode_pieces(c, bytes)));
}

INSTANTIATE_TEST_SUITE_P(Chunked, ChunkTable, ::testing::ValuesIn(chunk_cases()),
                         [](const ::testing::TestParamInfo<ChunkCase>& p) { return p.param.name; });

TEST(ChunkedDecoder, DiscardsDataWithoutSinkAndCountsIt) {
  ChunkedDecoder decoder;
  decoder.reset(100, 100);
  ChunkedResult r = decoder.decode("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", nullptr);
  EXPECT_EQ(r.status, ChunkedStatus::kDone);
  EXPECT_EQ(decoder.body_bytes(), 5u);
}

TEST(ChunkedDecoder, ResetStartsOver) {
  ChunkedDecoder decoder;
  decoder.reset(100, 100);
  std::string body;
  EXPECT_EQ(decoder.decode("zz", &body).status, ChunkedStatus::kInvalid);
  EXPECT_EQ(decoder.decode("1\r\n", &body).status, ChunkedStatus::kInvalid);  // until reset
  decoder.reset(100, 100);
  EXPECT_EQ(decoder.decode("1\r\nq\r\n0\r\n\r\n", &body).status, ChunkedStatus::kDone);
  EXPECT_EQ(body, "q");
}

}  // namespace
}  // namespace srv::http
