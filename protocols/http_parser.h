#pragma once

// Zero-copy HTTP/1.1 request-head parser (in the manner of picohttpparser): it validates the
// request line and header fields of RFC 9112 and returns string_views into the caller's bytes,
// with no allocation per header. It is stateless: a caller with an incomplete head calls again
// from the start once more bytes arrived.
//
// Line endings are strict: every line must end in CRLF. A bare LF or a CR not followed by LF is
// invalid (RFC 9112 §2.2 allows either rejecting or accepting bare LF; accepting it is how two
// parsers in a chain come to disagree about where a request ends). The chunked decoder follows
// the same rule.

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace srv::http {

/// More header fields than this make the head too large (431), whatever its byte size; the
/// fixed array keeps parsing free of allocation. Apache's LimitRequestFields default.
inline constexpr std::size_t kMaxHeaders = 100;

/// One header field. Both views point into the bytes given to parse_request_head.
struct Header {
  std::string_view name;   ///< a token, as sent (match it case-insensitively)
  std::string_view value;  ///< without leading or trailing spaces and tabs; may be empty
};

/// A parsed request head. Every view points into the bytes given to parse_request_head and is
/// valid only as long as they are.
struct RequestHead {
  std::string_view method;  ///< a token, case-sensitive ("GET")
  std::string_view target;  ///< visible ASCII, no spaces ("/path?query", "http://h/p", "*")
  int version_major = 0;    ///< the digits of "HTTP/d.d"
  int version_minor = 0;
  std::array<Header, kMaxHeaders> header_storage;
  std::size_t header_count = 0;

  /// The fields in the order received (duplicates kept).
  std::span<const Header> headers() const { return {header_storage.data(), header_count}; }
};

enum class ParseStatus {
  kComplete,        ///< a whole head ending in an empty line; `consumed` is its length
  kIncomplete,      ///< valid so far; call again with more bytes
  kInvalid,         ///< not a valid head, whatever follows (400)
  kTooManyHeaders,  ///< more than kMaxHeaders fields (431)
};

/// For an incomplete head: what the input ends in the middle of.
enum class Pending {
  kOther,       ///< a place where the next byte matters (line start, version, line end)
  kToken,       ///< the method or a field name
  kTarget,      ///< the request-target
  kFieldValue,  ///< a field value
};

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  std::size_t consumed = 0;  ///< bytes of the head including its final CRLF; 0 unless complete
  Pending pending = Pending::kOther;  ///< for kIncomplete
};

/// Parses the request head at the start of `in`. Empty lines (CRLF) before the request line are
/// skipped and counted in `consumed` (RFC 9112 §2.2: clients may send one after a body). Rejects
/// obs-fold (a line starting with SP or HTAB), whitespace between a field name and its colon,
/// control characters, and anything but "HTTP/d.d" as the version. `head` is overwritten;
/// its views point into `in`. Pure function: thread-safe, no allocation.
ParseResult parse_request_head(std::string_view in, RequestHead& head);

/// True when the input of an incomplete result, followed by `more`, is certainly still
/// incomplete: every byte of `more` merely extends the token, target or value in progress. Lets a
/// caller skip re-parsing from the start for bytes that cannot change the verdict, so a client
/// sending a long head a byte at a time costs linear, not quadratic, time.
bool continues_pending(Pending pending, std::string_view more);

/// True for a byte allowed in a token (RFC 9110 §5.6.2: field names, methods, codings).
bool is_token_char(char c);
/// True when `text` is a non-empty token.
bool is_token(std::string_view text);
/// ASCII case-insensitive equality (field names, connection options, codings).
bool iequals(std::string_view a, std::string_view b);
/// `text` without leading and trailing SP and HTAB (optional whitespace, OWS).
std::string_view trim_ows(std::string_view text);

/// Splits a comma-separated field value (`#element` of RFC 9110 §5.6.1) and calls
/// `visit(element)` with each element trimmed of OWS; empty elements are passed on too so a
/// caller can reject them. Stops early and returns false when `visit` returns false.
template <typename Visit>
bool for_each_element(std::string_view value, Visit&& visit) {
  while (true) {
    std::size_t comma = value.find(',');
    if (!visit(trim_ows(value.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace srv::http
