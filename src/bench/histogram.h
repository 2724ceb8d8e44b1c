#pragma once
// LatencyHistogram: a log-linear histogram of non-negative integer values (we record
// nanoseconds). Values below 128 have a bucket each; above, every power of two [2^e, 2^(e+1))
// is split into 128 equal buckets, so a bucket is at most 1/128 of its lower bound wide and a
// percentile read at the bucket's midpoint is within 0.4 % of an exact sample value.
// Count, sum, min and max are exact. Histograms merge by adding counts (per-thread or
// per-interval histograms combine into one without losing precision).
//
// Percentiles use the nearest-rank definition: the smallest recorded value v such that at
// least ceil(q * count) samples are <= v. Not synchronized: one writer at a time.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dte::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 128

  LatencyHistogram() = default;

  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t n);
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  // q in [0, 1]; 0 when empty. Percentile(1.0) is the exact max.
  uint64_t Percentile(double q) const;

  // The bucket a value falls in, and a bucket's lowest value and width (exposed for tests).
  static size_t BucketIndex(uint64_t value);
  static uint64_t BucketLow(size_t index);
  static uint64_t BucketWidth(size_t index);

 private:
  std::vector<uint64_t> counts_;  // grown on demand up to the highest bucket used
  uint64_t count_ = 0;
  uint64_t sum_ = 0;  // wraps only after ~584 years of nanoseconds
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace dte::bench
