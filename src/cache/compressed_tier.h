#pragma once
// L2: checkpoints compressed in RAM (checkpoint_codec: lz4 by default, zstd optional; lossy
// fp16/bf16 state only when asked). A hit decodes and hands the entry up (Get with take=true);
// evicted entries leave still encoded, so L3 writes them without re-encoding.
// Sharded, byte-accounted by compressed size. Optional TTL, as in L1 (RamTier): counted from
// TierEntry::cached_at, which an entry demoted from L1 keeps, so demotion never extends its life.
// Thread-safe.

#include <chrono>
#include <memory>
#include <vector>

#include "cache/cache_clock.h"
#include "cache/checkpoint_codec.h"
#include "cache/eviction_policy.h"
#include "cache/sharded_store.h"
#include "cache/tier.h"

namespace dte {

struct CompressedTierOptions {
  size_t capacity_bytes = size_t{4} << 30;
  int shards = 16;
  EvictionPolicyKind policy = EvictionPolicyKind::kWTinyLfu;  // measured: docs/state_cache.md
  CodecOptions codec;
  std::chrono::seconds ttl{0};          // every class but conversation; 0: never expire
  std::chrono::seconds session_ttl{0};  // conversation entries; 0: never expire
  std::shared_ptr<const CacheClock> clock = nullptr;  // null: CacheClock::Real()
};

class CompressedTier final : public CacheTier {
 public:
  explicit CompressedTier(const CompressedTierOptions& options);
  std::string_view name() const override { return "l2"; }
  std::optional<TierEntry> Get(CacheKey key, bool take) override;
  bool Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) override;
  bool Contains(CacheKey key) const override;
  bool Erase(CacheKey key) override;
  void Clear() override;
  TierStats Stats() const override;
  std::vector<EvictedEntry> TakeAll() override;
  size_t ExpireDue(std::vector<CacheKey>* expired) override;

 private:
  using Blob = std::shared_ptr<const std::vector<uint8_t>>;
  using Store = ShardedStore<Blob>;
  const CodecOptions codec_;
  const EvictionPolicyKind policy_;
  const std::chrono::seconds ttl_, session_ttl_;
  const bool has_ttl_;
  const std::shared_ptr<const CacheClock> clock_;
  mutable Store store_;
  TierCounters counters_;
};

}  // namespace dte
