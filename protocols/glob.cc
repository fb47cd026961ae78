#include "protocols/glob.h"

#include <cstddef>
#include <utility>

namespace srv {
namespace {

struct Token {
  bool matches = false;
  std::size_t next = 0;  // index in the pattern after the token
};

// The set starting after '[' at `i`; mirrors stringmatchlen: an escaped byte is literal, `a-z` is
// a range (either order), an unclosed set runs to the end of the pattern.
Token match_set(std::string_view p, std::size_t i, unsigned char c) {
  bool negate = i < p.size() && p[i] == '^';
  if (negate) ++i;
  bool matched = false;
  while (i < p.size() && p[i] != ']') {
    if (p[i] == '\\' && i + 1 < p.size()) {
      ++i;
      matched |= static_cast<unsigned char>(p[i]) == c;
    } else if (i + 2 < p.size() && p[i + 1] == '-') {
      auto low = static_cast<unsigned char>(p[i]);
      auto high = static_cast<unsigned char>(p[i + 2]);
      if (low > high) std::swap(low, high);
      matched |= c >= low && c <= high;
      i += 2;
    } else {
      matched |= static_cast<unsigned char>(p[i]) == c;
    }
    ++i;
  }
  if (i < p.size()) ++i;  // the ']'
  return {matched != negate, i};
}

// Whether the single-byte token at `i` (anything but '*') matches `c`.
Token match_token(std::string_view p, std::size_t i, unsigned char c) {
  switch (p[i]) {
    case '?':
      return {true, i + 1};
    case '[':
      return match_set(p, i + 1, c);
    case '\\':
      if (i + 1 < p.size()) return {static_cast<unsigned char>(p[i + 1]) == c, i + 2};
      [[fallthrough]];
    default:
      return {static_cast<unsigned char>(p[i]) == c, i + 1};
  }
}

}  // namespace

// Greedy with one backtrack point, the last '*': every other token matches exactly one byte,
// so retrying from the last star is enough and the work stays O(|pattern| * |text|).
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;  // pattern index after the last '*'
  std::size_t star_text = 0;                  // text index that star currently stops at
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      star = p;
      star_text = t;
      continue;
    }
    if (p < pattern.size()) {
      Token token = match_token(pattern, p, static_cast<unsigned char>(text[t]));
      if (token.matches) {
        p = token.next;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace srv
