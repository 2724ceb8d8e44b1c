#pragma once
// Counters of one cache tier and a lock-free latency histogram. TierStats is a plain snapshot the
// server renders as JSON (GET /v1/cache/stats) and as Prometheus dte_cache_* series.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace dte {

struct TierStats {
  std::string name;           // "l1", "l2", "l3"
  int64_t entries = 0;
  int64_t bytes = 0;          // bytes held (compressed size in L2/L3)
  int64_t capacity_bytes = 0;
  int64_t raw_bytes = 0;      // decoded size of what is held (compression ratio = raw / bytes)
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;      // entries pushed out for room or by TTL
  int64_t promotions = 0;     // entries moved up out of this tier by a hit
  int64_t rejections = 0;     // entries refused (too large, admission filter, I/O error)
  int64_t corrupt = 0;        // entries found damaged and dropped
  double get_p50_us = 0;
  double get_p99_us = 0;

  double hit_ratio() const { return hits + misses ? static_cast<double>(hits) / (hits + misses) : 0; }
  double compression_ratio() const { return bytes ? static_cast<double>(raw_bytes) / bytes : 1; }
};

// Log-scale histogram of durations in nanoseconds (4 buckets per power of two, ~19% wide).
// Thread-safe; Record is one relaxed atomic increment.
class LatencyHistogram {
 public:
  void Record(int64_t ns);
  double QuantileMicros(double q) const;  // bucket midpoint of the q-quantile; 0 when empty
  void Reset();

 private:
  static constexpr int kBuckets = 4 * 48;
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

// Relaxed atomic counters a tier bumps; Fill copies them into a snapshot.
struct TierCounters {
  std::atomic<int64_t> hits{0}, misses{0}, evictions{0}, promotions{0}, rejections{0}, corrupt{0};
  LatencyHistogram get_latency;

  void Fill(TierStats* s) const;
  void Reset();
};

}  // namespace dte
