#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace srv {

/// A growable byte queue: bytes are appended at the tail and consumed from the head.
/// Not thread-safe; a buffer belongs to one connection and is used on that connection's thread.
/// Header-only so that protocol plugins call it without linking against srv.
class Buffer {
 public:
  Buffer() = default;

  /// The bytes appended and not yet consumed. Invalidated by any non-const call.
  std::string_view readable() const { return {data_.data() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void append(std::string_view bytes) {
    if (bytes.empty()) return;
    auto room = prepare(bytes.size());
    std::memcpy(room.data(), bytes.data(), bytes.size());
    commit(bytes.size());
  }

  /// Drops `n` bytes from the head; `n` must not exceed size().
  void consume(std::size_t n) {
    assert(n <= size());
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;  // cheap reset keeps the common case copy-free
  }

  void clear() { begin_ = end_ = 0; }

  /// Space for at least `n` more bytes at the tail, for reading straight from a socket into the
  /// buffer. Follow with commit(k) for the k bytes actually written. The span is invalidated by
  /// any other non-const call.
  std::span<char> prepare(std::size_t n) {
    if (data_.size() - end_ < n) {
      // Slide live bytes to the front before growing, so a buffer drained as fast as it is
      // filled never grows past its high-water mark.
      slide_to_front();
      if (data_.size() - end_ < n) data_.resize(std::max(data_.size() * 2, end_ + n));
    }
    return {data_.data() + end_, data_.size() - end_};
  }
  void commit(std::size_t n) { end_ += n; }

  /// Room for a read of up to `n` bytes that does not grow the buffer for a few bytes already
  /// held: the free space at the tail (after sliding live bytes to the front) if it is at least
  /// min(n, kMinRead), otherwise prepare(n). A connection holding one byte of a request thus
  /// keeps its capacity instead of doubling it. The span is at most `n` bytes; commit() follows.
  std::span<char> prepare_up_to(std::size_t n) {
    std::size_t want = std::min(n, kMinRead);
    if (data_.size() - end_ < want) slide_to_front();
    std::span<char> room = data_.size() - end_ >= want && want > 0
                               ? std::span<char>(data_.data() + end_, data_.size() - end_)
                               : prepare(n);
    return room.first(std::min(room.size(), n));
  }

  /// Capacity held, for memory accounting and tests.
  std::size_t capacity() const { return data_.size(); }

  /// Gives up the storage of an empty buffer, which then holds none (server/buffer_pool.h).
  std::vector<char> release_storage() {
    assert(empty());
    begin_ = end_ = 0;
    std::vector<char> storage;
    storage.swap(data_);
    return storage;
  }
  /// Takes `storage` (its size() is the room) as its own; the buffer must hold none.
  void adopt_storage(std::vector<char>&& storage) {
    assert(data_.empty());
    data_.swap(storage);
    begin_ = end_ = 0;
  }

 private:
  void slide_to_front() {
    if (begin_ == 0) return;
    std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

  /// Below this much free space a read grows the buffer rather than read a few bytes at a time.
  static constexpr std::size_t kMinRead = 4096;

  std::vector<char> data_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace srv
