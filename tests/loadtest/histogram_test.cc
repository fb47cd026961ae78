// The histogram against exact percentiles of known samples: every reported percentile must be
// within 1% of the exact one (same rank definition: the smallest value with at least p% of the
// samples at or below it).
#include "loadtest/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace srv::loadtest {
namespace {

// p is given as a whole number of thousandths of a percent, so the rank is exact integer math.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, long thousandths) {
  const std::size_t rank = std::max<std::size_t>(
      1, (sorted.size() * static_cast<std::size_t>(thousandths) + 99'999) / 100'000);
  return sorted[rank - 1];
}

void expect_within_one_percent(const std::vector<std::uint64_t>& samples) {
  Histogram h;
  for (std::uint64_t v : samples) h.record(v);
  std::vector<std::uint64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  for (long thousandths : {0L, 1'000L, 10'000L, 25'000L, 50'000L, 75'000L, 90'000L, 99'000L,
                           99'900L, 99'990L, 100'000L}) {
    const double p = static_cast<double>(thousandths) / 1000;
    const double exact = static_cast<double>(exact_percentile(sorted, thousandths));
    const double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - exact), exact * 0.01) << "p" << p << " exact " << exact;
  }
  EXPECT_EQ(h.count(), samples.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 0; v < 256; ++v) h.record(v);
  for (std::uint64_t v = 1; v <= 256; ++v) {
    EXPECT_EQ(h.percentile(100.0 * static_cast<double>(v) / 256), v - 1);
  }
}

TEST(Histogram, BucketsTileTheRangeAndStayNarrow) {
  std::uint64_t expected_low = 0;
  for (std::size_t b = 0; Histogram::bucket_high(b) < (std::uint64_t{1} << 40); ++b) {
    ASSERT_EQ(Histogram::bucket_low(b), expected_low) << "bucket " << b;
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_low(b)), b);
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_high(b)), b);
    const double width = static_cast<double>(Histogram::bucket_high(b) - Histogram::bucket_low(b));
    ASSERT_LE(width, static_cast<double>(Histogram::bucket_low(b)) / 128.0 + 1) << "bucket " << b;
    expected_low = Histogram::bucket_high(b) + 1;
  }
  EXPECT_EQ(Histogram::bucket_of(UINT64_MAX), Histogram::bucket_of(UINT64_MAX - 1));
}

TEST(Histogram, UniformSamples) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> dist(1'000, 50'000'000);
  std::vector<std::uint64_t> samples(200'000);
  for (auto& v : samples) v = dist(rng);
  expect_within_one_percent(samples);
}

TEST(Histogram, LongTailedLatencies) {
  // Log-normal around 200us with a tail to seconds, as loopback latencies look.
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> dist(std::log(200'000.0), 1.5);
  std::vector<std::uint64_t> samples(300'000);
  for (auto& v : samples) v = static_cast<std::uint64_t>(dist(rng)) + 1;
  expect_within_one_percent(samples);
}

TEST(Histogram, FewSamplesAndOutliers) {
  expect_within_one_percent({42});
  expect_within_one_percent({5, 1'000'000'000, 7, 300, 300, 299, 12'345'678'901});
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(12, 2);
  Histogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_NEAR(a.mean(), all.mean(), all.mean() * 1e-9);
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) EXPECT_EQ(a.percentile(p), all.percentile(p));
}

// The rank is ceil(p% of count) exactly: with 1000 samples p99.9 is the 999th, not the max.
// (Values below 256 are counted exactly, so the ranks can be told apart.)
TEST(Histogram, RankIsExactAtRoundCounts) {
  Histogram h;
  h.record_n(0, 745);
  for (std::uint64_t v = 1; v <= 255; ++v) h.record(v);  // ranks 746..1000 hold 1..255
  EXPECT_EQ(h.percentile(99.9), 254u);
  EXPECT_EQ(h.percentile(99), 245u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.percentile(100), 255u);
  Histogram many;
  many.record_n(7, 3'000'000'000);
  many.record(1'000'000);
  EXPECT_EQ(many.percentile(99.99), 7u) << "large counts do not overflow the rank";
  EXPECT_EQ(many.percentile(100), 1'000'000u);
}

TEST(Histogram, EmptyAndCleared) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(99), 0u);
  EXPECT_EQ(h.min(), 0u);
  h.record_n(1000, 10);
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.percentile(50), 1000u);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
}

}  // namespace
}  // namespace srv::loadtest
