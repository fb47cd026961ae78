#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace srv {

/// A growable byte queue: bytes are appended at the tail and consumed from the head.
/// Not thread-safe; a buffer belongs to one connection and is used on that connection's thread.
class Buffer {
 public:
  Buffer() = default;

  /// The bytes appended and not yet consumed. Invalidated by any non-const call.
  std::string_view readable() const { return {data_.data() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void append(std::string_view bytes);
  /// Drops `n` bytes from the head; `n` must not exceed size().
  void consume(std::size_t n);
  void clear() { begin_ = end_ = 0; }

  /// Space for at least `n` more bytes at the tail, for reading straight from a socket into the
  /// buffer. Follow with commit(k) for the k bytes actually written. The span is invalidated by
  /// any other non-const call.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n) { end_ += n; }

 private:
  std::vector<char> data_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace srv
