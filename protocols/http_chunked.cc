#include "protocols/http_chunked.h"

#include <algorithm>
#include <limits>

#include "protocols/http_parser.h"

namespace srv::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_field_value_char(char c) {
  auto b = static_cast<unsigned char>(c);
  return c == '\t' || (b >= 0x20 && b != 0x7f);
}

}  // namespace

void ChunkedDecoder::reset(std::uint64_t max_body_bytes, std::size_t max_trailer_bytes) {
  state_ = State::kSizeStart;
  max_body_bytes_ = max_body_bytes;
  max_trailer_bytes_ = max_trailer_bytes;
  chunk_size_ = 0;
  body_bytes_ = 0;
  line_bytes_ = 0;
  trailer_bytes_ = 0;
}

ChunkedResult ChunkedDecoder::decode(std::string_view in, std::string* body) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    if (state_ == State::kData) {
      // The data itself is copied in bulk, not byte by byte.
      auto take = static_cast<std::size_t>(
          std::min<std::uint64_t>(chunk_size_, static_cast<std::uint64_t>(in.size() - pos)));
      if (body) body->append(in.substr(pos, take));
      pos += take;
      chunk_size_ -= take;
      if (chunk_size_ == 0) state_ = State::kDataCr;
      continue;
    }
    ChunkedStatus status = step(in[pos]);
    ++pos;
    if (status != ChunkedStatus::kNeedMore) {
      if (status != ChunkedStatus::kDone) state_ = State::kFailed;
      return {status, pos};
    }
  }
  return {ChunkedStatus::kNeedMore, pos};
}

ChunkedStatus ChunkedDecoder::step(char c) {
  // Framing bytes are bounded; data bytes (counted against max_body_bytes) are not seen here.
  if (state_ <= State::kSizeLf) {
    if (++line_bytes_ > kMaxChunkLine) return ChunkedStatus::kInvalid;
  } else if (state_ >= State::kTrailerStart && state_ <= State::kEndLf) {
    if (++trailer_bytes_ > max_trailer_bytes_) return ChunkedStatus::kTrailersTooLarge;
  }
  switch (state_) {
    case State::kSizeStart:
    case State::kSize: {
      int digit = hex_value(c);
      if (digit >= 0) {
        // A size that does not fit in 64 bits is malformed (400), not merely too large.
        if (chunk_size_ > (std::numeric_limits<std::uint64_t>::max() >> 4))
          return ChunkedStatus::kInvalid;
        chunk_size_ = (chunk_size_ << 4) | static_cast<std::uint64_t>(digit);
        state_ = State::kSize;
        break;
      }
      // At least one digit: rejects "", "-1", " 5", "0x5", ";ext" alone.
      if (state_ == State::kSizeStart) return ChunkedStatus::kInvalid;
      if (c == ';') {
        state_ = State::kExtension;
      } else if (c == ' ' || c == '\t') {
        state_ = State::kSizeSpace;
      } else if (c == '\r') {
        state_ = State::kSizeLf;
      } else {
        return ChunkedStatus::kInvalid;
      }
      break;
    }
    case State::kSizeSpace:
      // chunk-ext allows BWS before ";" only; "5 \r\n" is not valid.
      if (c == ';') {
        state_ = State::kExtension;
      } else if (c != ' ' && c != '\t') {
        return ChunkedStatus::kInvalid;
      }
      break;
    case State::kExtension:
      // Extensions are checked for forbidden bytes only (controls, bare LF), not for their
      // name=value grammar: srv ignores them either way.
      if (c == '\r') {
        state_ = State::kSizeLf;
      } else if (!is_field_value_char(c)) {
        return ChunkedStatus::kInvalid;
      }
      break;
    case State::kSizeLf:
      if (c != '\n') return ChunkedStatus::kInvalid;
      if (chunk_size_ > max_body_bytes_ - body_bytes_) return ChunkedStatus::kBodyTooLarge;
      body_bytes_ += chunk_size_;
      state_ = chunk_size_ == 0 ? State::kTrailerStart : State::kData;
      return ChunkedStatus::kNeedMore;
    case State::kData:  // handled in bulk by decode()
      break;
    case State::kDataCr:
      if (c != '\r') return ChunkedStatus::kInvalid;  // data longer than its size, or no CRLF
      state_ = State::kDataLf;
      break;
    case State::kDataLf:
      if (c != '\n') return ChunkedStatus::kInvalid;
      state_ = State::kSizeStart;
      chunk_size_ = 0;
      line_bytes_ = 0;
      break;
    case State::kTrailerStart:
      if (c == '\r') {
        state_ = State::kEndLf;
      } else if (is_token_char(c)) {
        state_ = State::kTrailerName;  // SP or HTAB here would be obs-fold: rejected
      } else {
        return ChunkedStatus::kInvalid;
      }
      break;
    case State::kTrailerName:
      if (c == ':') {
        state_ = State::kTrailerValue;
      } else if (!is_token_char(c)) {
        return ChunkedStatus::kInvalid;
      }
      break;
    case State::kTrailerValue:
      if (c == '\r') {
        state_ = State::kTrailerLf;
      } else if (!is_field_value_char(c)) {
        return ChunkedStatus::kInvalid;
      }
      break;
    case State::kTrailerLf:
      if (c != '\n') return ChunkedStatus::kInvalid;
      state_ = State::kTrailerStart;
      break;
    case State::kEndLf:
      if (c != '\n') return ChunkedStatus::kInvalid;
      state_ = State::kDone;
      return ChunkedStatus::kDone;
    case State::kDone:
    case State::kFailed:
      return ChunkedStatus::kInvalid;  // used without reset()
  }
  return ChunkedStatus::kNeedMore;
}

}  // namespace srv::http
