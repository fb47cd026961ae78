#include "protocols/http_parser.h"

namespace srv::http {
namespace {

constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kTokenChars = make_token_table();

unsigned char byte(char c) {
  return static_cast<unsigned char>(c);
}

// request-target: visible ASCII only. Raw bytes >= 0x80 are not URI characters (RFC 3986); a
// client must percent-encode them.
bool is_target_char(char c) {
  return byte(c) > 0x20 && byte(c) < 0x7f;
}

// field-value characters: VCHAR, obs-text, SP and HTAB; never CR, LF, NUL or another control.
bool is_field_value_char(char c) {
  return c == '\t' || (byte(c) >= 0x20 && byte(c) != 0x7f);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A cursor over the input; every read reports "ran out" separately from "wrong byte", since
// running out means incomplete, not invalid.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  bool at_end() const { return pos_ >= in_.size(); }
  char peek() const { return in_[pos_]; }
  std::size_t pos() const { return pos_; }
  void advance(std::size_t n = 1) { pos_ += n; }
  std::string_view slice(std::size_t from, std::size_t to) const {
    return in_.substr(from, to - from);
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

enum class Scan { kOk, kIncomplete, kInvalid };

// Consumes CRLF; a CR followed by anything but LF, or a bare LF, is invalid.
Scan expect_crlf(Cursor& cur) {
  if (cur.at_end()) return Scan::kIncomplete;
  if (cur.peek() != '\r') return Scan::kInvalid;
  cur.advance();
  if (cur.at_end()) return Scan::kIncomplete;
  if (cur.peek() != '\n') return Scan::kInvalid;
  cur.advance();
  return Scan::kOk;
}

// Reads a non-empty run of bytes accepted by `ok`, which must end at one SP.
template <typename Accept>
Scan word_then_space(Cursor& cur, Accept ok, std::string_view& word, Pending& pending,
                     Pending kind) {
  pending = kind;
  std::size_t start = cur.pos();
  while (!cur.at_end() && ok(cur.peek())) cur.advance();
  if (cur.at_end()) return Scan::kIncomplete;
  if (cur.peek() != ' ' || cur.pos() == start) return Scan::kInvalid;
  word = cur.slice(start, cur.pos());
  cur.advance();
  return Scan::kOk;
}

// "HTTP/" DIGIT "." DIGIT, checked byte by byte so that a prefix is incomplete, not invalid.
Scan version(Cursor& cur, RequestHead& head) {
  constexpr std::string_view kPattern = "HTTP/#.#";  // '#' stands for a digit
  for (char want : kPattern) {
    if (cur.at_end()) return Scan::kIncomplete;
    char c = cur.peek();
    if (want == '#' ? !is_digit(c) : c != want) return Scan::kInvalid;
    cur.advance();
  }
  std::string_view text = cur.slice(cur.pos() - kPattern.size(), cur.pos());
  head.version_major = text[5] - '0';
  head.version_minor = text[7] - '0';
  return Scan::kOk;
}

// field-name ":" OWS field-value OWS CRLF. The caller has ruled out an empty line.
Scan header_line(Cursor& cur, Header& out, Pending& pending) {
  std::size_t start = cur.pos();
  pending = Pending::kToken;
  // obs-fold (a continuation line) and space before the name are rejected, not unfolded
  // (RFC 9112 §5.2 allows rejecting with 400).
  while (!cur.at_end() && is_token_char(cur.peek())) cur.advance();
  if (cur.at_end()) return Scan::kIncomplete;
  // No whitespace between name and colon (RFC 9112 §5.1: MUST reject with 400).
  if (cur.peek() != ':' || cur.pos() == start) return Scan::kInvalid;
  out.name = cur.slice(start, cur.pos());
  cur.advance();
  pending = Pending::kFieldValue;
  std::size_t value_start = cur.pos();
  while (!cur.at_end() && is_field_value_char(cur.peek())) cur.advance();
  if (cur.at_end()) return Scan::kIncomplete;
  out.value = trim_ows(cur.slice(value_start, cur.pos()));
  pending = Pending::kOther;
  return expect_crlf(cur);  // anything else here is a control byte or a bare LF
}

ParseResult result(Scan scan, Pending pending) {
  if (scan == Scan::kIncomplete) return {ParseStatus::kIncomplete, 0, pending};
  return {ParseStatus::kInvalid, 0, Pending::kOther};
}

}  // namespace

bool is_token_char(char c) {
  return kTokenChars[byte(c)];
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool continues_pending(Pending pending, std::string_view more) {
  bool (*accepts)(char) = nullptr;
  switch (pending) {
    case Pending::kOther:
      return more.empty();
    case Pending::kToken:
      accepts = is_token_char;
      break;
    case Pending::kTarget:
      accepts = is_target_char;
      break;
    case Pending::kFieldValue:
      accepts = is_field_value_char;
      break;
  }
  for (char c : more) {
    if (!accepts(c)) return false;
  }
  return true;
}

ParseResult parse_request_head(std::string_view in, RequestHead& head) {
  head.header_count = 0;
  Cursor cur(in);
  Pending pending = Pending::kOther;
  while (!cur.at_end() && cur.peek() == '\r') {
    if (Scan s = expect_crlf(cur); s != Scan::kOk) return result(s, pending);
  }
  if (Scan s = word_then_space(cur, is_token_char, head.method, pending, Pending::kToken);
      s != Scan::kOk)
    return result(s, pending);
  if (Scan s = word_then_space(cur, is_target_char, head.target, pending, Pending::kTarget);
      s != Scan::kOk)
    return result(s, pending);
  pending = Pending::kOther;
  if (Scan s = version(cur, head); s != Scan::kOk) return result(s, pending);
  if (Scan s = expect_crlf(cur); s != Scan::kOk) return result(s, pending);
  while (true) {
    if (cur.at_end()) return {ParseStatus::kIncomplete, 0, Pending::kOther};
    if (cur.peek() == '\r') {
      if (Scan s = expect_crlf(cur); s != Scan::kOk) return result(s, Pending::kOther);
      return {ParseStatus::kComplete, cur.pos()};
    }
    Header header;
    if (Scan s = header_line(cur, header, pending); s != Scan::kOk) return result(s, pending);
    if (head.header_count == kMaxHeaders) return {ParseStatus::kTooManyHeaders, 0};
    head.header_storage[head.header_count++] = header;
  }
}

}  // namespace srv::http
