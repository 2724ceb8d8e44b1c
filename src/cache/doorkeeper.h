#pragma once
// Doorkeeper: a small Bloom filter that remembers keys seen recently, used as L3's admission
// filter: an entry goes to disk only when its key was seen before (hit, or demoted once and
// refused), so one-hit wonders stay off disk. It forgets everything after `reset_after` adds
// (aging), as in TinyLFU. False positives admit an entry early; never a correctness issue.
// Blocked: a key's kHashes bits all lie in one 64-bit word (one memory access per check, no
// division), at a slightly higher false-positive rate than free bits.
// Thread-safe (atomic bit words).

#include <atomic>
#include <cstdint>
#include <memory>

#include "cache/checkpoint.h"

namespace dte {

class Doorkeeper {
 public:
  explicit Doorkeeper(size_t bits = size_t{1} << 20, uint64_t reset_after = 1 << 17);
  // Records `key`; returns whether it was (probably) recorded before.
  bool TestAndAdd(CacheKey key);
  bool Contains(CacheKey key) const;
  void Clear();

 private:
  static constexpr int kHashes = 3;
  size_t Word(CacheKey key) const;
  static uint64_t Mask(CacheKey key);
  const int shift_;  // 64 - log2(words)
  const size_t words_count_;
  const uint64_t reset_after_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
  std::atomic<uint64_t> adds_{0};
};

}  // namespace dte
