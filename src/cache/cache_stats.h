#pragma once
// Counters of one cache tier and a lock-free latency histogram. TierStats is a plain snapshot the
// server renders as JSON (GET /v1/cache/stats) and as Prometheus dte_cache_* series.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace dte {

struct TierStats {
  std::string name;           // "l1", "l2", "l3", "redis"
  std::string eviction;       // EvictionPolicyName of the tier's policy; empty for redis (none of its own)
  int64_t entries = 0;
  int64_t bytes = 0;          // bytes held (compressed size in L2/L3)
  int64_t capacity_bytes = 0;
  int64_t raw_bytes = 0;      // decoded size of what is held (compression ratio = raw / bytes)
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;      // entries pushed out for room
  int64_t expirations = 0;    // entries dropped because their TTL ran out (at a get or a sweep)
  int64_t promotions = 0;     // entries moved up out of this tier by a hit
  int64_t rejections = 0;     // entries refused (too large, admission filter, I/O error)
  int64_t corrupt = 0;        // entries found damaged and dropped
  int64_t writes = 0;         // values written (redis)
  int64_t bytes_written = 0;  // bytes written (redis)
  int64_t errors = 0;         // I/O errors, timeouts, error replies (redis)
  int64_t skipped = 0;        // operations skipped while the tier was unavailable (redis)
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

// A counter that many threads bump at once without sharing a cache line, for the per-lookup
// counters (a shared atomic would cost a locked add and cache-line ping-pong between cores on
// every hit). The first kOwned threads of the process each own one padded cell and add with a
// plain load + store (no locked instruction: nobody else writes it); later threads share kShared
// cells with fetch_add. Reading sums the cells. Same calls as std::atomic<int64_t>. Thread-safe;
// store() (a reset) racing with adds may lose those adds.
class StripedCounter {
 public:
  void fetch_add(int64_t n, std::memory_order = std::memory_order_relaxed) {
    size_t i = MyCell();
    std::atomic<int64_t>& v = cells_[i].v;
    if (i < kOwned) v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    else v.fetch_add(n, std::memory_order_relaxed);
  }
  int64_t load(std::memory_order order = std::memory_order_relaxed) const {
    int64_t sum = 0;
    for (const Cell& c : cells_) sum += c.v.load(order);
    return sum;
  }
  void store(int64_t v, std::memory_order order = std::memory_order_relaxed) {
    for (Cell& c : cells_) c.v.store(0, order);
    cells_[kOwned].v.fetch_add(v, order);
  }

 private:
  static constexpr size_t kOwned = 32, kShared = 8;
  struct alignas(64) Cell {
    std::atomic<int64_t> v{0};
  };
  static size_t MyCell() {
    thread_local size_t mine = AssignCell();
    return mine;
  }
  static size_t AssignCell();
  std::array<Cell, kOwned + kShared> cells_{};
};

// Relaxed counters a tier bumps; Fill copies them into a snapshot.
struct TierCounters {
  StripedCounter hits, misses;
  std::atomic<int64_t> evictions{0}, expirations{0}, promotions{0}, rejections{0}, corrupt{0};
  std::atomic<int64_t> writes{0}, bytes_written{0}, errors{0}, skipped{0};
  LatencyHistogram get_latency;

  void Fill(TierStats* s) const;
  void Reset();
};

}  // namespace dte
