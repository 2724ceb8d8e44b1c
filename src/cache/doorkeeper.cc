#include "cache/doorkeeper.h"

namespace dte {

Doorkeeper::Doorkeeper(size_t bits, uint64_t reset_after)
    : bits_((bits + 63) / 64 * 64), reset_after_(reset_after), words_(new std::atomic<uint64_t>[bits_ / 64]) {
  Clear();
}

size_t Doorkeeper::Bit(CacheKey key, int i) const {
  // Keys are hashes already; derive the probes by double hashing.
  uint64_t h1 = key * 0x9e3779b97f4a7c15ull, h2 = (key >> 32 | key << 32) * 0xc2b2ae3d27d4eb4full | 1;
  return static_cast<size_t>((h1 + static_cast<uint64_t>(i) * h2) % bits_);
}

bool Doorkeeper::Contains(CacheKey key) const {
  for (int i = 0; i < kHashes; ++i) {
    size_t b = Bit(key, i);
    if (!(words_[b / 64].load(std::memory_order_relaxed) >> (b % 64) & 1)) return false;
  }
  return true;
}

bool Doorkeeper::TestAndAdd(CacheKey key) {
  if (adds_.fetch_add(1, std::memory_order_relaxed) + 1 >= reset_after_) {
    adds_.store(0, std::memory_order_relaxed);
    Clear();
  }
  bool seen = true;
  for (int i = 0; i < kHashes; ++i) {
    size_t b = Bit(key, i);
    uint64_t mask = uint64_t{1} << (b % 64);
    if (!(words_[b / 64].fetch_or(mask, std::memory_order_relaxed) & mask)) seen = false;
  }
  return seen;
}

void Doorkeeper::Clear() {
  for (size_t i = 0; i < bits_ / 64; ++i) words_[i].store(0, std::memory_order_relaxed);
}

}  // namespace dte
