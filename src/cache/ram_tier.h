#pragma once
// L1: decoded checkpoints in RAM, shared as shared_ptr<const Checkpoint> (a hit copies no bytes).
// Sharded, byte-accounted against capacity_bytes; the eviction policy is chosen by options.
// Thread-safe.

#include "cache/eviction_policy.h"
#include "cache/sharded_store.h"
#include "cache/tier.h"

namespace dte {

struct RamTierOptions {
  size_t capacity_bytes = size_t{1} << 30;
  int shards = 16;
  EvictionPolicyKind policy = EvictionPolicyKind::kSieve;
};

class RamTier final : public CacheTier {
 public:
  explicit RamTier(const RamTierOptions& options);
  std::string_view name() const override { return "l1"; }
  std::optional<TierEntry> Get(CacheKey key, bool take) override;
  bool Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) override;
  bool Contains(CacheKey key) const override;
  bool Erase(CacheKey key) override;
  void Clear() override;
  TierStats Stats() const override;
  std::vector<EvictedEntry> TakeAll() override;

 private:
  using Store = ShardedStore<std::shared_ptr<const Checkpoint>>;
  mutable Store store_;
  TierCounters counters_;
};

}  // namespace dte
