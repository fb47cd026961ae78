#pragma once

// Incremental decoder of a chunked request body (RFC 9112 §7.1), with chunk extensions and
// trailer fields. Extensions and trailers are validated and dropped: srv gives them no meaning.
//
// It is a byte-level state machine, so it takes input in pieces of any size and consumes all of
// each piece up to the end of the body; the caller never re-offers bytes. Like the head parser it
// requires CRLF line endings (a bare LF is invalid).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace srv::http {

enum class ChunkedStatus {
  kNeedMore,          ///< all of the input was consumed; the body continues
  kDone,              ///< the last chunk and the trailer section ended; `consumed` stops there
  kInvalid,           ///< malformed framing: bad size, missing CRLF, bad extension or trailer
  kBodyTooLarge,      ///< the chunk data would exceed max_body_bytes (413)
  kTrailersTooLarge,  ///< the trailer section exceeds max_trailer_bytes (431)
};

struct ChunkedResult {
  ChunkedStatus status = ChunkedStatus::kNeedMore;
  std::size_t consumed = 0;  ///< bytes of the input used; meaningful for kNeedMore and kDone
};

/// Decodes one chunked body. Not thread-safe; one per connection, reset() between requests.
class ChunkedDecoder {
 public:
  /// Chunk lines (size and extensions) longer than this are refused; no client needs more, and
  /// an endless extension would otherwise keep a connection busy without any body progress.
  static constexpr std::size_t kMaxChunkLine = 4096;

  /// Starts a new body: at most `max_body_bytes` of chunk data, at most `max_trailer_bytes` of
  /// trailer section (the final CRLF included).
  void reset(std::uint64_t max_body_bytes, std::size_t max_trailer_bytes);

  /// Decodes the next piece of the body, appending the chunk data to `*body` (dropped when
  /// `body` is null). After a status other than kNeedMore the decoder must be reset().
  ChunkedResult decode(std::string_view in, std::string* body);

  /// Chunk data bytes decoded so far.
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State {
    kSizeStart,  // first hex digit of a chunk size
    kSize,       // more hex digits, or what follows them
    kSizeSpace,  // BWS after the size: only ";" may follow
    kExtension,  // ";" seen: extension bytes up to CR
    kSizeLf,     // CR seen at the end of the size line
    kData,       // chunk data
    kDataCr,     // CRLF after the data
    kDataLf,
    kTrailerStart,  // start of a trailer field line, or the CR of the final empty line
    kTrailerName,
    kTrailerValue,
    kTrailerLf,  // CR seen at the end of a trailer field line
    kEndLf,      // CR seen at the start of a line: the final CRLF
    kDone,
    kFailed,
  };

  ChunkedStatus step(char c);

  State state_ = State::kSizeStart;
  std::uint64_t max_body_bytes_ = 0;
  std::size_t max_trailer_bytes_ = 0;
  std::uint64_t chunk_size_ = 0;  // of the chunk being read; counts down in kData
  std::uint64_t body_bytes_ = 0;
  std::size_t line_bytes_ = 0;  // of the current size line
  std::size_t trailer_bytes_ = 0;
};

}  // namespace srv::http
