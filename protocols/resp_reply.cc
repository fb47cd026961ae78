#include "protocols/resp_reply.h"

#include <array>
#include <charconv>
#include <string>

namespace srv::resp {
namespace {

// A type byte, a decimal number and CRLF, written in one append.
void prefixed_number(Buffer& out, char type, std::int64_t n) {
  std::array<char, 24> text{};  // type + 20 digits with sign + CRLF
  text[0] = type;
  auto [end, ec] = std::to_chars(text.data() + 1, text.data() + text.size() - 2, n);
  (void)ec;  // 22 bytes always fit an int64
  *end++ = '\r';
  *end++ = '\n';
  out.append({text.data(), static_cast<std::size_t>(end - text.data())});
}

}  // namespace

void simple(Buffer& out, std::string_view text) {
  out.append("+");
  out.append(text);
  out.append("\r\n");
}

void error(Buffer& out, std::string_view text) {
  out.append("-");
  if (text.find_first_of("\r\n") == std::string_view::npos) {
    out.append(text);
  } else {
    std::string clean(text);
    for (char& c : clean) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    out.append(clean);
  }
  out.append("\r\n");
}

void integer(Buffer& out, std::int64_t n) {
  prefixed_number(out, ':', n);
}

void bulk(Buffer& out, std::string_view bytes) {
  prefixed_number(out, '$', static_cast<std::int64_t>(bytes.size()));
  out.append(bytes);
  out.append("\r\n");
}

void null_bulk(Buffer& out) {
  out.append("$-1\r\n");
}

void null_array(Buffer& out) {
  out.append("*-1\r\n");
}

void array_header(Buffer& out, std::size_t n) {
  prefixed_number(out, '*', static_cast<std::int64_t>(n));
}

void ok(Buffer& out) {
  out.append("+OK\r\n");
}

}  // namespace srv::resp
