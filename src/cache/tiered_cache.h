#pragma once
// TieredCache: the state cache the engine talks to. Prefix checkpoints ((model, token prefix) ->
// state + logits, found by PrefixIndex) and sessions (by key) share one stack of tiers:
//   L1 RAM (decoded) -> L2 compressed RAM -> L3 disk (optional).
// Get looks L1, then L2, then L3; a hit below L1 moves the entry up into L1 (never a second copy).
// Put goes into L1; what L1 evicts is demoted to L2, what L2 evicts to L3 (when the doorkeeper
// admits it), what L3 evicts is gone and leaves the prefix index too.
//
// Thread-safe: every method may be called from any thread. Checkpoints are immutable once cached
// (shared_ptr<const Checkpoint>); a caller copies the state bytes into its own State.
// Concurrent Puts of the same key are last-writer-wins; a Get racing a Put of the same key may
// briefly promote the older value (harmless for prefix checkpoints, which are deterministic;
// the engine never runs one session twice at once).

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cache/compressed_tier.h"
#include "cache/disk_tier.h"
#include "cache/doorkeeper.h"
#include "cache/prefix_index.h"
#include "cache/ram_tier.h"

namespace dte {

struct TieredCacheOptions {
  int block_tokens = 32;                 // PrefixIndex block size
  RamTierOptions l1;
  bool enable_l2 = true;
  CompressedTierOptions l2;
  std::optional<DiskTierOptions> l3;     // nullopt: no disk tier
  bool l3_admit_all = false;             // false: the doorkeeper keeps one-hit wonders off disk
};

struct CacheStats {
  std::vector<TierStats> tiers;  // l1, l2 (if on), l3 (if on), in that order
  int64_t prefix_entries = 0;    // checkpoints in the prefix index
  int64_t lookups = 0;           // LookupPrefix + Get calls
  int64_t hits = 0;              // ... that found something in some tier
  int64_t l3_admission_rejections = 0;
};

class TieredCache {
 public:
  static Result<std::unique_ptr<TieredCache>> Open(const TieredCacheOptions& options);

  // ---- prefix checkpoints ----
  struct PrefixHit {
    int64_t tokens = 0;  // resume prefill after this many tokens of the prompt
    CacheKey key = 0;
    std::shared_ptr<const Checkpoint> checkpoint;
  };
  // The longest cached prefix of `tokens` still held by some tier (stale index entries are
  // dropped on the way), or nullopt.
  std::optional<PrefixHit> LookupPrefix(std::string_view model_id, std::span<const int32_t> tokens);
  // Caches a checkpoint taken after `prefix` (fills checkpoint.model_id / prefix / tokens).
  CacheKey PutPrefix(std::string_view model_id, std::span<const int32_t> prefix, Checkpoint checkpoint,
                     Priority priority = Priority::kGeneral);

  // ---- keyed entries (sessions) ----
  static CacheKey SessionKey(std::string_view model_id, std::string_view session_id);
  std::shared_ptr<const Checkpoint> Get(CacheKey key);
  void Put(CacheKey key, std::shared_ptr<const Checkpoint> checkpoint, Priority priority);
  bool Erase(CacheKey key);  // from every tier and the index

  void Clear();  // POST /v1/cache/clear
  CacheStats Stats() const;
  const PrefixIndex& index() const { return index_; }

 private:
  explicit TieredCache(const TieredCacheOptions& options);
  // Finds `key` in the tiers (L1 keeps; lower tiers hand the entry up into L1).
  std::optional<TierEntry> Find(CacheKey key);
  void Insert(CacheKey key, TierEntry entry);
  // Sends `evicted` from tier `level` down the stack, dropping what falls off the bottom.
  void Demote(size_t level, std::vector<EvictedEntry> evicted);

  const TieredCacheOptions options_;
  PrefixIndex index_;
  std::vector<std::unique_ptr<CacheTier>> tiers_;  // fixed after Open
  DiskTier* disk_ = nullptr;                       // tiers_.back() when L3 is on
  Doorkeeper doorkeeper_;
  std::atomic<int64_t> lookups_{0}, hits_{0}, admission_rejections_{0};
};

}  // namespace dte
