#include "server/buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

namespace srv {
namespace {

std::string pattern(std::size_t n, std::size_t start = 0) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>((start + i) * 131 % 251);
  return out;
}

TEST(Buffer, StartsEmpty) {
  Buffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.readable(), "");
}

TEST(Buffer, AppendThenReadable) {
  Buffer buffer;
  buffer.append("hello");
  EXPECT_FALSE(buffer.empty());
  EXPECT_EQ(buffer.size(), 5u);
  EXPECT_EQ(buffer.readable(), "hello");
  buffer.append(", world");
  EXPECT_EQ(buffer.readable(), "hello, world");
}

TEST(Buffer, AppendEmptyChangesNothing) {
  Buffer buffer;
  buffer.append("");
  EXPECT_TRUE(buffer.empty());
  buffer.append("ab");
  buffer.append("");
  EXPECT_EQ(buffer.readable(), "ab");
}

TEST(Buffer, KeepsBinaryBytesIncludingNul) {
  const std::string binary("\0\x01\xff\0z", 5);
  Buffer buffer;
  buffer.append(binary);
  EXPECT_EQ(buffer.size(), 5u);
  EXPECT_EQ(buffer.readable(), binary);
}

TEST(Buffer, ConsumeDropsFromHead) {
  Buffer buffer;
  buffer.append("abcdef");
  buffer.consume(2);
  EXPECT_EQ(buffer.readable(), "cdef");
  EXPECT_EQ(buffer.size(), 4u);
  buffer.consume(0);
  EXPECT_EQ(buffer.readable(), "cdef");
  buffer.append("gh");
  EXPECT_EQ(buffer.readable(), "cdefgh");
  buffer.consume(6);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.readable(), "");
}

TEST(Buffer, ConsumingEverythingReusesTheStorageFromItsStart) {
  Buffer buffer;
  buffer.prepare(100);  // room at the tail, so nothing forces a slide
  buffer.append("0123456789");
  const char* start = buffer.readable().data();
  buffer.consume(10);
  buffer.append("abc");
  // Fully drained, the next bytes go to the front instead of after the consumed ones.
  EXPECT_EQ(buffer.readable().data(), start);
  EXPECT_EQ(buffer.readable(), "abc");
}

TEST(Buffer, ClearEmpties) {
  Buffer buffer;
  buffer.append("abc");
  buffer.consume(1);
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
  buffer.append("xyz");
  EXPECT_EQ(buffer.readable(), "xyz");
}

TEST(Buffer, PrepareGivesAtLeastTheRoomAskedFor) {
  for (std::size_t n : {0u, 1u, 7u, 4096u, 1u << 20}) {
    Buffer buffer;
    EXPECT_GE(buffer.prepare(n).size(), n);
    EXPECT_TRUE(buffer.empty()) << "prepare alone must not add readable bytes";
  }
}

// A read of up to 64 KiB with a few bytes already held (a slow client's partial request) must
// not double the buffer; only a nearly full buffer grows.
TEST(Buffer, PrepareUpToKeepsTheCapacityForAFewHeldBytes) {
  constexpr std::size_t kChunk = 64 * 1024;
  struct Case {
    std::size_t held, consumed_first;  // bytes held after a full read, of which consumed
    std::size_t capacity_after;        // capacity once a read of up to kChunk is prepared
    std::size_t room_at_least;
  };
  const Case cases[] = {
      {1, 0, kChunk, kChunk - 1},                // one pending byte: no growth
      {kChunk, kChunk - 1, kChunk, kChunk - 1},  // consumed all but one: slides, no growth
      {kChunk - 100, 0, 2 * kChunk, kChunk},     // nearly full: grows, as prepare would
      {kChunk / 2, 0, kChunk, kChunk / 2},       // half full: reads into the other half
      {kChunk, 0, 2 * kChunk, kChunk},           // full: grows
  };
  for (const Case& c : cases) {
    Buffer buffer;
    buffer.prepare(kChunk);
    buffer.commit(c.held);
    buffer.consume(c.consumed_first);
    const std::string before(buffer.readable());
    auto room = buffer.prepare_up_to(kChunk);
    EXPECT_EQ(buffer.capacity(), c.capacity_after) << c.held << "/" << c.consumed_first;
    EXPECT_GE(room.size(), c.room_at_least) << c.held << "/" << c.consumed_first;
    EXPECT_LE(room.size(), kChunk);
    EXPECT_EQ(buffer.readable(), before) << "held bytes survive";
    EXPECT_EQ(room.data(), buffer.readable().data() + buffer.size()) << "room is at the tail";
  }
  Buffer empty;
  EXPECT_EQ(empty.prepare_up_to(kChunk).size(), kChunk) << "an empty buffer gets a whole chunk";
}

TEST(Buffer, PrepareThenCommitPartOfIt) {
  Buffer buffer;
  buffer.append("head:");
  auto room = buffer.prepare(100);
  ASSERT_GE(room.size(), 100u);
  std::memcpy(room.data(), "tail-bytes", 10);
  buffer.commit(4);  // like a recv that returned fewer bytes than it had room for
  EXPECT_EQ(buffer.readable(), "head:tail");
  EXPECT_EQ(buffer.size(), 9u);
}

TEST(Buffer, PrepareIsRightAfterReadableBytes) {
  Buffer buffer;
  buffer.append("abc");
  buffer.consume(1);
  auto room = buffer.prepare(8);
  std::string_view readable = buffer.readable();
  EXPECT_EQ(room.data(), readable.data() + readable.size());
  EXPECT_EQ(readable, "bc");
}

TEST(Buffer, CommitZeroAndUncommittedPrepareChangeNothing) {
  Buffer buffer;
  buffer.append("abc");
  auto room = buffer.prepare(16);
  std::memset(room.data(), 'Z', 16);
  buffer.commit(0);
  EXPECT_EQ(buffer.readable(), "abc");
  buffer.append("d");  // overwrites the uncommitted scribbles
  EXPECT_EQ(buffer.readable(), "abcd");
}

TEST(Buffer, GrowsPreservingContent) {
  Buffer buffer;
  std::string model;
  for (std::size_t step = 1; step <= 4096; step *= 2) {
    std::string piece = pattern(step, model.size());
    buffer.append(piece);
    model += piece;
    ASSERT_EQ(buffer.readable(), model) << "after appending " << step << " bytes";
  }
  EXPECT_EQ(buffer.size(), 8191u);
}

TEST(Buffer, GrowsWhilePartlyConsumed) {
  Buffer buffer;
  buffer.append(pattern(100));
  buffer.consume(30);
  const std::string more = pattern(10'000, 100);
  buffer.append(more);
  EXPECT_EQ(buffer.readable(), pattern(70, 30) + more);
}

TEST(Buffer, SlidesLiveBytesToTheFrontInsteadOfGrowing) {
  Buffer buffer;
  auto first = buffer.prepare(100);
  const std::size_t capacity = first.size();
  const char* base = first.data();
  std::memcpy(first.data(), pattern(capacity).data(), capacity);
  buffer.commit(capacity);  // full: no room at the tail
  buffer.consume(60);       // but 60 free bytes at the head

  auto room = buffer.prepare(50);
  ASSERT_GE(room.size(), 50u);
  // The 40 live bytes moved to the start of the same storage; nothing was reallocated.
  EXPECT_EQ(buffer.readable().data(), base);
  EXPECT_EQ(room.data(), base + (capacity - 60));
  EXPECT_EQ(buffer.readable(), pattern(capacity - 60, 60));
}

TEST(Buffer, DrainedAsFastAsFilledNeverReallocates) {
  // A steady backlog of 1000 bytes with 100-byte writes and reads: once the storage is big enough
  // for the high-water mark, sliding must keep every byte inside that same block.
  Buffer buffer;
  buffer.append(pattern(1100));
  buffer.consume(100);
  auto room = buffer.prepare(0);
  const char* block_begin = buffer.readable().data() - 100;
  const char* block_end = room.data() + room.size();
  std::string model = pattern(1000, 100);
  std::size_t written = 1100;
  for (int i = 0; i < 10'000; ++i) {
    std::string piece = pattern(100, written);
    written += 100;
    buffer.append(piece);
    buffer.consume(100);
    model = model.substr(100) + piece;
    const char* data = buffer.readable().data();
    ASSERT_GE(data, block_begin) << "reallocated at iteration " << i;
    ASSERT_LE(data + buffer.size(), block_end) << "reallocated at iteration " << i;
  }
  EXPECT_EQ(buffer.readable(), model);
}

TEST(Buffer, LargeDataSurvivesRandomAppendsAndConsumes) {
  // A reference model (std::string) against random operation sizes, ~16 MiB through the buffer.
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> size(0, 70'000);
  std::uniform_int_distribution<int> op(0, 3);
  Buffer buffer;
  std::string model;
  std::size_t produced = 0;
  for (int i = 0; i < 1000; ++i) {
    switch (op(rng)) {
      case 0:
      case 1: {
        std::string piece = pattern(size(rng), produced);
        produced += piece.size();
        buffer.append(piece);
        model += piece;
        break;
      }
      case 2: {
        std::size_t n = std::min(size(rng), model.size());
        buffer.consume(n);
        model.erase(0, n);
        break;
      }
      case 3: {
        std::size_t want = size(rng);
        auto room = buffer.prepare(want);
        ASSERT_GE(room.size(), want);
        std::size_t got = want / 2;  // a short read
        std::string piece = pattern(got, produced);
        produced += got;
        std::memcpy(room.data(), piece.data(), got);
        buffer.commit(got);
        model += piece;
        break;
      }
    }
    ASSERT_EQ(buffer.size(), model.size()) << "operation " << i;
    ASSERT_TRUE(buffer.readable() == model) << "content differs after operation " << i;
  }
  EXPECT_GT(produced, 10u << 20);
}

TEST(Buffer, HoldsSixtyFourMebibytes) {
  const std::string big = pattern(64u << 20);
  Buffer buffer;
  for (std::size_t at = 0; at < big.size(); at += 1 << 20) {
    buffer.append(std::string_view(big).substr(at, 1 << 20));
  }
  ASSERT_EQ(buffer.size(), big.size());
  EXPECT_TRUE(buffer.readable() == big);
  buffer.consume(big.size() - 3);
  EXPECT_EQ(buffer.readable(), big.substr(big.size() - 3));
}

}  // namespace
}  // namespace srv
