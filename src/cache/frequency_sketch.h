#pragma once
// FrequencySketch: a count-min sketch that estimates how often each 64-bit key was seen lately,
// for W-TinyLFU's admission (eviction_wtinylfu.cc). 4 rows of 4-bit saturating counters (held one
// per byte); the estimate is the smallest of the key's 4 counters, so it never undercounts
// except through aging. Aging: after 10 × (largest entry count reserved, at least 8) increments
// every counter is halved, so old popularity fades. Each row has a power-of-two width (at least 2
// counters per reserved entry) and is indexed by the top bits of a per-row mix of the key, so
// growing the width splits each counter into two copies of itself and keeps every estimate.
//
// Not thread-safe: owned by one policy, used under its shard's lock.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace dte {

class FrequencySketch {
 public:
  static constexpr int kRows = 4;
  static constexpr uint8_t kMaxCount = 15;
  static constexpr size_t kAgingFactor = 10;

  FrequencySketch() { counters_.assign(static_cast<size_t>(kRows) << log_width_, 0); }

  // Makes room for `entries` tracked keys (never shrinks).
  void Reserve(size_t entries) {
    max_entries_ = std::max(max_entries_, entries);
    aging_period_ = kAgingFactor * std::max<size_t>(max_entries_, 8);
    while ((size_t{1} << log_width_) < 2 * entries) Grow();
  }

  void Increment(uint64_t key) {
    uint64_t m = Mix(key);
    for (int r = 0; r < kRows; ++r) {
      uint8_t& c = counters_[Slot(m, r)];
      c = static_cast<uint8_t>(c + (c < kMaxCount));  // branch-free: the outcome is random
    }
    if (++additions_ >= aging_period_) Age();
  }

  int Estimate(uint64_t key) const {
    uint64_t mixed = Mix(key);
    int m = kMaxCount;
    for (int r = 0; r < kRows; ++r) m = std::min<int>(m, counters_[Slot(mixed, r)]);
    return m;
  }

  size_t aging_period() const { return aging_period_; }
  size_t width() const { return size_t{1} << log_width_; }

 private:
  // One mix of the key, then an independent multiply per row (the 4 rows' work overlaps).
  static uint64_t Mix(uint64_t key) {
    uint64_t x = (key ^ (key >> 31)) * 0xBF58476D1CE4E5B9ull;
    return (x ^ (x >> 29)) * 0x94D049BB133111EBull;
  }
  size_t Slot(uint64_t mixed, int row) const {
    static constexpr uint64_t kRowSeeds[kRows] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full,
                                                  0x165667B19E3779F9ull, 0xD6E8FEB86659FD93ull};
    uint64_t x = (mixed ^ (mixed >> 32)) * kRowSeeds[row];
    return (static_cast<size_t>(row) << log_width_) + static_cast<size_t>(x >> (64 - log_width_));
  }
  void Grow() {
    std::vector<uint8_t> old = std::move(counters_);
    size_t old_width = width();
    ++log_width_;
    counters_.assign(static_cast<size_t>(kRows) << log_width_, 0);
    for (size_t r = 0; r < kRows; ++r) {
      for (size_t i = 0; i < old_width; ++i) {
        uint8_t c = old[r * old_width + i];
        counters_[r * 2 * old_width + 2 * i] = c;
        counters_[r * 2 * old_width + 2 * i + 1] = c;
      }
    }
  }
  void Age() {
    for (uint8_t& c : counters_) c >>= 1;
    additions_ /= 2;
  }

  int log_width_ = 6;
  std::vector<uint8_t> counters_;
  size_t max_entries_ = 0;
  size_t aging_period_ = kAgingFactor * 8;
  size_t additions_ = 0;
};

}  // namespace dte
