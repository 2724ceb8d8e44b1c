// LatencyHistogram: percentiles within 1 % of the exact ones, exact count/min/max, merging.
#include "bench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace dte::bench {
namespace {

// Nearest-rank percentile of sorted samples (the definition the histogram follows).
uint64_t ExactPercentile(const std::vector<uint64_t>& sorted, double q) {
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void ExpectWithinOnePercent(const std::vector<uint64_t>& samples, const LatencyHistogram& h) {
  std::vector<uint64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(h.count(), sorted.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
  for (double q : {0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0}) {
    const double exact = static_cast<double>(ExactPercentile(sorted, q));
    const double got = static_cast<double>(h.Percentile(q));
    EXPECT_LE(std::abs(got - exact), 0.01 * exact)
        << "q=" << q << " exact=" << exact << " got=" << got;
  }
}

TEST(LatencyHistogramTest, LogNormalLatenciesWithinOnePercent) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(std::log(50e6), 1.2);  // ~50 ms median, in ns
  std::vector<uint64_t> samples;
  LatencyHistogram h;
  for (int i = 0; i < 200'000; ++i) {
    samples.push_back(static_cast<uint64_t>(dist(rng)));
    h.Record(samples.back());
  }
  ExpectWithinOnePercent(samples, h);
}

TEST(LatencyHistogramTest, UniformOverManyDecadesWithinOnePercent) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(0.0, 15.0);  // 1 ns .. 1e15 ns
  std::vector<uint64_t> samples;
  LatencyHistogram h;
  for (int i = 0; i < 50'000; ++i) {
    samples.push_back(static_cast<uint64_t>(std::pow(10.0, exponent(rng))));
    h.Record(samples.back());
  }
  ExpectWithinOnePercent(samples, h);
}

TEST(LatencyHistogramTest, SmallCountsAreExact) {
  LatencyHistogram h;
  for (uint64_t v : {5u, 1u, 3u, 2u, 4u}) h.Record(v);
  EXPECT_EQ(h.Percentile(0.5), 3u);
  EXPECT_EQ(h.Percentile(0.2), 1u);
  EXPECT_EQ(h.Percentile(0.21), 2u);
  EXPECT_EQ(h.Percentile(1.0), 5u);
  EXPECT_DOUBLE_EQ(h.mean(), 3.0);
}

TEST(LatencyHistogramTest, EmptyReadsZero) {
  LatencyHistogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.Percentile(0.99), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogramTest, BucketsTileTheRangeWithBoundedWidth) {
  for (size_t i = 0; i + 1 < 57 * LatencyHistogram::kSubBuckets; ++i) {
    const uint64_t low = LatencyHistogram::BucketLow(i), width = LatencyHistogram::BucketWidth(i);
    EXPECT_EQ(LatencyHistogram::BucketIndex(low), i);
    EXPECT_EQ(LatencyHistogram::BucketIndex(low + width - 1), i);
    EXPECT_EQ(LatencyHistogram::BucketLow(i + 1), low + width);
    if (low >= LatencyHistogram::kSubBuckets) {
      EXPECT_LE(width * 128, low);
    }
  }
  EXPECT_LT(LatencyHistogram::BucketIndex(UINT64_MAX), 58 * LatencyHistogram::kSubBuckets);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> dist(1e-6);
  LatencyHistogram a, b, all;
  std::vector<uint64_t> samples;
  for (int i = 0; i < 20'000; ++i) {
    const uint64_t v = static_cast<uint64_t>(dist(rng));
    samples.push_back(v);
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  ExpectWithinOnePercent(samples, a);
  for (double q : {0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(a.Percentile(q), all.Percentile(q));
  EXPECT_EQ(a.mean(), all.mean());
}

}  // namespace
}  // namespace dte::bench
