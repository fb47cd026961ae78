#include "loadtest/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace srv::loadtest {
namespace {

// 2^8 exact values, then 128 buckets per power of two: width / lowest value <= 1/128.
constexpr unsigned kSubBits = 8;
constexpr std::uint64_t kExact = std::uint64_t{1} << kSubBits;  // 256
constexpr std::uint64_t kHalf = kExact / 2;                     // 128 buckets per octave
constexpr std::size_t kBuckets = kExact + (64 - kSubBits) * kHalf;

}  // namespace

Histogram::Histogram() : counts_(kBuckets, 0) {}

std::size_t Histogram::bucket_of(std::uint64_t value) {
  if (value < kExact) return value;
  // shift so that value >> shift lies in [kHalf, kExact): the top kSubBits bits of the value.
  const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - kSubBits;
  return kExact + (shift - 1) * kHalf + ((value >> shift) - kHalf);
}

std::uint64_t Histogram::bucket_low(std::size_t bucket) {
  if (bucket < kExact) return bucket;
  const std::size_t shift = (bucket - kExact) / kHalf + 1;
  const std::uint64_t top = (bucket - kExact) % kHalf + kHalf;
  return top << shift;
}

std::uint64_t Histogram::bucket_high(std::size_t bucket) {
  if (bucket < kExact) return bucket;
  const std::size_t shift = (bucket - kExact) / kHalf + 1;
  return bucket_low(bucket) + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record_n(std::uint64_t value, std::uint64_t n) {
  if (n == 0) return;
  counts_[bucket_of(value)] += n;
  count_ += n;
  sum_ += static_cast<double>(value) * static_cast<double>(n);
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::clear() {
  *this = Histogram();
}

std::uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The rank of the wanted value, 1-based: ceil(p% of count), at least the first value. In whole
  // millionths of a percent: 99.9 / 100 * 1000 in doubles is 999.0000000000001, one rank high.
  const auto millionths = static_cast<std::uint64_t>(std::llround(p * 1e6));
  const std::uint64_t total = 100'000'000;                  // 100% in millionths
  const std::uint64_t whole = count_ / total * millionths;  // split so nothing overflows 64 bits
  const std::uint64_t part = (count_ % total * millionths + total - 1) / total;
  const std::uint64_t rank = std::max<std::uint64_t>(1, whole + part);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t mid = bucket_low(i) + (bucket_high(i) - bucket_low(i)) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace srv::loadtest
