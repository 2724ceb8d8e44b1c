#include "cache/doorkeeper.h"

namespace dte {

namespace {
int Log2Words(size_t bits) {
  int log2 = 0;
  while ((size_t{64} << log2) < bits) ++log2;
  return log2;
}
}  // namespace

Doorkeeper::Doorkeeper(size_t bits, uint64_t reset_after)
    : shift_(64 - Log2Words(bits)),
      words_count_(size_t{1} << Log2Words(bits)),
      reset_after_(reset_after),
      words_(new std::atomic<uint64_t>[words_count_]) {
  Clear();
}

size_t Doorkeeper::Word(CacheKey key) const {
  // Keys are hashes already; mix once more and take the top bits.
  return shift_ >= 64 ? 0 : static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> shift_);
}

uint64_t Doorkeeper::Mask(CacheKey key) {
  uint64_t h = (key >> 32 | key << 32) * 0xc2b2ae3d27d4eb4full;
  uint64_t mask = 0;
  for (int i = 0; i < kHashes; ++i) mask |= uint64_t{1} << (h >> (58 - 6 * i) & 63);
  return mask;
}

bool Doorkeeper::Contains(CacheKey key) const {
  uint64_t mask = Mask(key);
  return (words_[Word(key)].load(std::memory_order_relaxed) & mask) == mask;
}

bool Doorkeeper::TestAndAdd(CacheKey key) {
  if (adds_.fetch_add(1, std::memory_order_relaxed) + 1 >= reset_after_) {
    adds_.store(0, std::memory_order_relaxed);
    Clear();
  }
  uint64_t mask = Mask(key);
  return (words_[Word(key)].fetch_or(mask, std::memory_order_relaxed) & mask) == mask;
}

void Doorkeeper::Clear() {
  for (size_t i = 0; i < words_count_; ++i) words_[i].store(0, std::memory_order_relaxed);
}

}  // namespace dte
