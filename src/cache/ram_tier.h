#pragma once
// L1: decoded checkpoints in RAM, shared as shared_ptr<const Checkpoint> (a hit copies no bytes).
// Sharded, byte-accounted against capacity_bytes; the eviction policy is chosen by options.
// Optional TTL: an entry older than its TTL (counted from TierEntry::cached_at) is a miss at Get
// and is dropped (stats: expirations); ExpireDue drops them all. Conversation entries (sessions)
// use session_ttl instead of ttl: see docs/state_cache.md, "TTLs".
// Thread-safe.

#include <chrono>
#include <memory>

#include "cache/cache_clock.h"
#include "cache/eviction_policy.h"
#include "cache/sharded_store.h"
#include "cache/tier.h"

namespace dte {

struct RamTierOptions {
  size_t capacity_bytes = size_t{1} << 30;
  int shards = 16;
  EvictionPolicyKind policy = EvictionPolicyKind::kWTinyLfu;  // measured: docs/state_cache.md
  std::chrono::seconds ttl{0};          // every class but conversation; 0: never expire
  std::chrono::seconds session_ttl{0};  // conversation entries; 0: never expire
  std::shared_ptr<const CacheClock> clock = nullptr;  // null: CacheClock::Real()
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
  size_t ExpireDue(std::vector<CacheKey>* expired) override;

 private:
  using Store = ShardedStore<std::shared_ptr<const Checkpoint>>;
  // The `now` for a Find: kUnstamped (no check, no clock read) when this tier has no TTL.
  int64_t NowForCheck() const { return has_ttl_ ? clock_->NowNanos() : kUnstamped; }

  const EvictionPolicyKind policy_;
  const std::chrono::seconds ttl_, session_ttl_;
  const bool has_ttl_;
  const std::shared_ptr<const CacheClock> clock_;
  mutable Store store_;
  TierCounters counters_;
};

}  // namespace dte
