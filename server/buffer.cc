#include "server/buffer.h"

#include <cassert>
#include <cstring>

namespace srv {

void Buffer::append(std::string_view bytes) {
  if (bytes.empty()) return;
  auto room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void Buffer::consume(std::size_t n) {
  assert(n <= size());
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;  // cheap reset keeps the common case copy-free
}

std::span<char> Buffer::prepare(std::size_t n) {
  if (data_.size() - end_ < n) {
    // Slide live bytes to the front before growing, so a buffer that is drained as fast as it is
    // filled never grows past its high-water mark.
    if (begin_ > 0) {
      std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (data_.size() - end_ < n) data_.resize(std::max(data_.size() * 2, end_ + n));
  }
  return {data_.data() + end_, data_.size() - end_};
}

}  // namespace srv
