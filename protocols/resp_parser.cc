#include "protocols/resp_parser.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace srv {
namespace {

// Redis's LONG_STR_SIZE: string2ll rejects 21 characters or more before looking at them.
constexpr std::size_t kMaxIntegerText = 21;
// Redis answers clients that still have to AUTH with an error beyond these (CVE-2021-32675).
constexpr std::int64_t kUnauthenticatedMaxArgs = 10;
constexpr std::int64_t kUnauthenticatedMaxBulk = 16384;

// C's isspace in the "C" locale, which sdssplitargs uses to skip blanks and to check what
// follows a closing quote.
bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Where Redis's strchr(start, '\r') finds the end of a `*N` / `$N` line: the first CR at or
// after `from`, but a NUL byte ends the search first (strchr stops at it), so a header with a
// NUL in it is never complete and ends as "too big ... count string". `scanned` is where the
// next search may resume: everything before it holds no CR (or the NUL that blocks the line).
std::size_t find_header_end(std::string_view in, std::size_t from, std::size_t& scanned) {
  std::size_t hit = in.find_first_of(std::string_view("\r\0", 2), from);
  if (hit == std::string_view::npos) {
    scanned = in.size();
    return std::string_view::npos;
  }
  scanned = hit;
  return in[hit] == '\0' ? std::string_view::npos : hit;
}

// sdssplitargs over one inline line (which holds no NUL: the newline search stops at NUL).
// Appends the decoded arguments to `storage` and their (offset, length) to `spans`; false for
// unbalanced quotes. Ported branch for branch so edge cases (a quote inside a word opens a quoted
// section; a closing quote must be followed by a blank) behave as in Redis.
bool split_inline(std::string_view line, std::string& storage,
                  std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  const std::size_t n = line.size();
  auto at = [&](std::size_t i) { return i < n ? line[i] : '\0'; };  // C-string view of `line`
  std::size_t p = 0;
  for (;;) {
    while (p < n && is_c_space(line[p])) ++p;
    if (p >= n) return true;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    std::size_t start = storage.size();
    while (!done) {
      char c = at(p);
      if (in_double) {
        if (c == '\\' && at(p + 1) == 'x' && is_hex_digit(at(p + 2)) && is_hex_digit(at(p + 3))) {
          storage.push_back(static_cast<char>(hex_value(at(p + 2)) * 16 + hex_value(at(p + 3))));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          ++p;
          switch (line[p]) {
            case 'n':
              storage.push_back('\n');
              break;
            case 'r':
              storage.push_back('\r');
              break;
            case 't':
              storage.push_back('\t');
              break;
            case 'b':
              storage.push_back('\b');
              break;
            case 'a':
              storage.push_back('\a');
              break;
            default:
              storage.push_back(line[p]);
              break;
          }
        } else if (c == '"') {
          if (at(p + 1) != '\0' && !is_c_space(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;  // unterminated quotes
        } else {
          storage.push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          storage.push_back('\'');
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !is_c_space(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          storage.push_back(c);
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            storage.push_back(c);
            break;
        }
      }
      if (p < n) ++p;
    }
    spans.emplace_back(start, storage.size() - start);
  }
}

}  // namespace

std::optional<std::int64_t> parse_redis_int(std::string_view text) {
  if (text.empty() || text.size() >= kMaxIntegerText) return std::nullopt;
  if (text == "0") return 0;
  std::size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    if (++i == text.size()) return std::nullopt;
  }
  if (text[i] < '1' || text[i] > '9') return std::nullopt;
  std::uint64_t value = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > kMax / 10) return std::nullopt;
    value *= 10;
    if (value > kMax - digit) return std::nullopt;
    value += digit;
  }
  constexpr auto kMaxPositive =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (value > kMaxPositive + 1) return std::nullopt;
    // -(2^63) has no positive counterpart; negate in unsigned arithmetic.
    return static_cast<std::int64_t>(~value + 1);
  }
  if (value > kMaxPositive) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

void RespParser::reset() {
  kind_ = Kind::kNone;
  scanned_ = 0;
  expected_ = -1;
  pos_ = 0;
  bulk_length_ = -1;
  spans_.clear();
}

ParseResult RespParser::complete(ParseStatus status, std::size_t consumed) {
  reset();
  return {status, consumed};
}

ParseResult RespParser::fail(std::string message) {
  error_ = std::move(message);
  args_.clear();
  return complete(ParseStatus::kError, 0);
}

ParseResult RespParser::parse(std::string_view in, const ParseLimits& limits) {
  args_.clear();
  // A caller that broke the "same bytes again, plus new ones" contract: start over.
  if (kind_ != Kind::kNone && (in.empty() || pos_ > in.size() || scanned_ > in.size())) reset();
  if (in.empty()) return {ParseStatus::kIncomplete, 0};
  if (kind_ == Kind::kNone) kind_ = in[0] == '*' ? Kind::kMultibulk : Kind::kInline;
  return kind_ == Kind::kMultibulk ? parse_multibulk(in, limits) : parse_inline(in);
}

ParseResult RespParser::parse_inline(std::string_view in) {
  // Redis finds the newline with strchr, which stops at a NUL: an inline request with a NUL
  // before its newline never completes, and is rejected once it outgrows the inline limit.
  std::size_t stop = in.find_first_of(std::string_view("\n\0", 2), scanned_);
  if (stop == std::string_view::npos || in[stop] == '\0') {
    scanned_ = stop == std::string_view::npos ? in.size() : stop;
    if (in.size() > kMaxInlineLength) return fail("Protocol error: too big inline request");
    return {ParseStatus::kIncomplete, 0};
  }
  std::size_t line_length = stop;
  if (line_length > 0 && in[line_length - 1] == '\r') --line_length;

  inline_storage_.clear();
  inline_storage_.reserve(line_length);  // decoding only shrinks, so views below stay valid
  if (!split_inline(in.substr(0, line_length), inline_storage_, spans_)) {
    return fail("Protocol error: unbalanced quotes in request");
  }
  if (spans_.empty()) return complete(ParseStatus::kEmpty, stop + 1);
  std::string_view storage(inline_storage_);
  for (auto [offset, length] : spans_) args_.push_back(storage.substr(offset, length));
  return complete(ParseStatus::kCommand, stop + 1);
}

ParseResult RespParser::parse_multibulk(std::string_view in, const ParseLimits& limits) {
  if (expected_ < 0) {
    std::size_t cr = find_header_end(in, scanned_, scanned_);
    if (cr == std::string_view::npos) {
      if (in.size() > kMaxInlineLength) return fail("Protocol error: too big mbulk count string");
      return {ParseStatus::kIncomplete, 0};
    }
    if (cr + 2 > in.size()) return {ParseStatus::kIncomplete, 0};  // Redis wants CR + 1 byte
    std::optional<std::int64_t> count = parse_redis_int(in.substr(1, cr - 1));
    if (!count || *count > limits.max_args) {
      return fail("Protocol error: invalid multibulk length");
    }
    if (limits.unauthenticated && *count > kUnauthenticatedMaxArgs) {
      return fail("Protocol error: unauthenticated multibulk length");
    }
    if (*count <= 0) return complete(ParseStatus::kEmpty, cr + 2);  // `*0`, `*-1`: no command
    expected_ = *count;
    pos_ = cr + 2;
    scanned_ = pos_;
    // Grow with the data, not with the announcement: `*1000000` alone must not cost memory.
    spans_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(expected_, 1024)));
  }
  while (static_cast<std::int64_t>(spans_.size()) < expected_) {
    if (bulk_length_ < 0) {
      std::size_t cr = find_header_end(in, std::max(pos_, scanned_), scanned_);
      if (cr == std::string_view::npos) {
        if (in.size() - pos_ > kMaxInlineLength) {
          return fail("Protocol error: too big bulk count string");
        }
        return {ParseStatus::kIncomplete, 0};
      }
      if (cr + 2 > in.size()) return {ParseStatus::kIncomplete, 0};
      if (in[pos_] != '$') {
        return fail(std::string("Protocol error: expected '$', got '") + in[pos_] + "'");
      }
      std::optional<std::int64_t> length = parse_redis_int(in.substr(pos_ + 1, cr - pos_ - 1));
      if (!length || *length < 0 || *length > limits.max_bulk_length) {
        return fail("Protocol error: invalid bulk length");
      }
      if (limits.unauthenticated && *length > kUnauthenticatedMaxBulk) {
        return fail("Protocol error: unauthenticated bulk length");
      }
      bulk_length_ = *length;
      pos_ = cr + 2;
    }
    // Like Redis, the two bytes after the payload are skipped without being checked.
    auto length = static_cast<std::size_t>(bulk_length_);
    if (in.size() - pos_ < length + 2) return {ParseStatus::kIncomplete, 0};
    spans_.emplace_back(pos_, length);
    pos_ += length + 2;
    scanned_ = pos_;
    bulk_length_ = -1;
  }
  for (auto [offset, length] : spans_) args_.push_back(in.substr(offset, length));
  return complete(ParseStatus::kCommand, pos_);
}

}  // namespace srv
