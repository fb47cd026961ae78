// A log-linear latency histogram in the manner of HdrHistogram: values below 2^kSubBits are
// counted exactly, above that every power of two is split into 2^(kSubBits-1) equal buckets, so
// a bucket is never wider than 1/128 of its lowest value. Reporting a bucket's midpoint keeps
// the relative error of every percentile under 0.4%. Histograms of the same shape merge by
// adding counts, so each load thread keeps its own and nothing is shared while measuring.
#pragma once

#include <cstdint>
#include <vector>

namespace srv::loadtest {

class Histogram {
 public:
  Histogram();

  /// Counts one value (nanoseconds, say). Not thread-safe: one histogram per thread, merged after.
  void record(std::uint64_t value) { record_n(value, 1); }
  void record_n(std::uint64_t value, std::uint64_t n);

  /// Adds every count of `other` to this one.
  void merge(const Histogram& other);
  void clear();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }

  /// The value at percentile `p` (0..100): the smallest recorded value v such that at least p% of
  /// the values are <= v, to within the bucket's width (midpoint, clamped to [min, max]).
  std::uint64_t percentile(double p) const;

  /// The bucket a value falls in, and that bucket's lowest and highest value (for tests).
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_low(std::size_t bucket);
  static std::uint64_t bucket_high(std::size_t bucket);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double sum_ = 0;  // for the mean only; exact sums of nanoseconds would overflow 64 bits
};

}  // namespace srv::loadtest
