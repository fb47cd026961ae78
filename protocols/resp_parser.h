#pragma once

// Parsing Redis requests: RESP2 multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline commands
// (`GET k\r\n`, what telnet and `nc` send), with Redis 7.0's exact rules and error texts
// (networking.c: processMultibulkBuffer, processInlineBuffer; sds.c: sdssplitargs).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace srv {

/// Redis's string2ll: an optional '-', then digits without a leading zero ("0" itself is fine),
/// at most 20 characters, within int64. "-0", "+1", " 1", "01" and "1.0" are rejected. Used for
/// every integer in the protocol and in commands, so both give the errors Redis gives.
std::optional<std::int64_t> parse_redis_int(std::string_view text);

/// Redis's PROTO_INLINE_MAX_SIZE: the longest inline command, and the longest `*N` or `$N`
/// header line, before the request is rejected as a protocol error.
inline constexpr std::size_t kMaxInlineLength = 64 * 1024;

/// What the parser accepts. Redis restricts clients that still have to AUTH (CVE-2021-32675):
/// at most 10 arguments of at most 16 KiB each.
struct ParseLimits {
  std::int64_t max_bulk_length = 512 * 1024;
  std::int64_t max_args = 1024 * 1024;
  bool unauthenticated = false;
};

enum class ParseStatus {
  kCommand,     ///< a whole command is ready in args(); `consumed` bytes made it up
  kEmpty,       ///< `consumed` bytes held no command (an empty line, `*0`, `*-1`): skip them
  kIncomplete,  ///< the command at the front is not complete yet; nothing consumed
  kError,       ///< a protocol error; error() says which; the connection should close
};

/// The outcome of one parse() call.
struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  std::size_t consumed = 0;
};

/// Parses one command at a time from the front of a connection's unconsumed input. One parser
/// per connection, used on that connection's thread only.
///
/// Resumable: after kIncomplete the parser remembers how far it got (the argument offsets and
/// the position of the next header), so a command arriving in many small reads costs O(its
/// size) overall, not O(size^2). This relies on the handler contract: the next call gets the
/// same unconsumed bytes at the front of `in`, with new bytes appended.
class RespParser {
 public:
  /// Parses the command at the front of `in`. On kCommand, args() views point into `in` (into
  /// the parser's own storage for inline commands, whose quotes and escapes are decoded) and
  /// stay valid until the next parse() or reset() and as long as `in`'s bytes do.
  ParseResult parse(std::string_view in, const ParseLimits& limits);

  /// The arguments of the command parse() just reported (name first). Empty otherwise.
  std::span<const std::string_view> args() const { return args_; }

  /// Redis's message for the last kError, e.g. "Protocol error: invalid bulk length"; the
  /// reply is "-ERR " + this.
  const std::string& error() const { return error_; }

  /// Forgets a partly parsed command (for a handler that drops its input).
  void reset();

 private:
  enum class Kind { kNone, kInline, kMultibulk };
  using Span = std::pair<std::size_t, std::size_t>;  // offset and length of one argument

  ParseResult parse_inline(std::string_view in);
  ParseResult parse_multibulk(std::string_view in, const ParseLimits& limits);
  ParseResult fail(std::string message);
  ParseResult complete(ParseStatus status, std::size_t consumed);

  Kind kind_ = Kind::kNone;
  // Where the search for the end of the current line resumes (inline: the newline; multibulk:
  // the CR of a `*N` or `$N` header), so a long line arriving byte by byte is scanned once.
  std::size_t scanned_ = 0;
  // Multibulk: the announced argument count (-1 before the `*N` line was read), the offset of
  // the next unread byte, the length of the bulk whose `$N` line was read (-1 if none), and the
  // arguments read so far.
  std::int64_t expected_ = -1;
  std::size_t pos_ = 0;
  std::int64_t bulk_length_ = -1;
  std::vector<Span> spans_;

  std::vector<std::string_view> args_;
  std::string inline_storage_;
  std::string error_;
};

}  // namespace srv
