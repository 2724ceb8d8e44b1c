#pragma once
// TieredCache: the state cache the engine talks to. Prefix checkpoints ((model, token prefix) ->
// state + logits, found by PrefixIndex) and sessions (by key) share one stack of tiers:
//   L1 RAM (decoded) -> L2 compressed RAM -> L3 disk (optional).
// Get looks L1, then L2, then L3; a hit below L1 moves the entry up into L1 (never a second copy).
// Put goes into L1; what L1 evicts is demoted to L2, what L2 evicts to L3 (when the doorkeeper
// admits it), what L3 evicts is gone and leaves the prefix index too.
//
// With `redis` set, a shared tier beside the stack (RedisTier): sessions (Put with priority
// conversation) are written through to Redis before Put returns (unless sync_session_writes is
// off: then in the background, like the rest), prefix checkpoints (and, with
// write_all, every Put) in the background; a Get or LookupPrefix that misses locally (or, for
// LookupPrefix, finds only a shorter prefix) asks Redis and moves what it finds into L1. A local
// session hit first checks that no other worker has written a newer copy. A Redis outage only
// makes these steps misses (short timeouts, then a circuit breaker skips Redis for a while).
//
// TTLs (docs/state_cache.md, "TTLs"): L1 and L2 count an entry's age from when it was put into the
// cache (a demotion or promotion between them keeps that time); conversation entries use the
// tiers' session_ttl (default: none) instead of ttl; L3 counts from its own write; Redis has its
// own. Expired entries are misses; ExpireDue() sweeps them all (call it periodically).
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
#include "cache/redis_tier.h"

namespace dte {

struct TieredCacheOptions {
  int block_tokens = 32;                 // PrefixIndex block size
  RamTierOptions l1;
  bool enable_l2 = true;
  CompressedTierOptions l2;
  std::optional<DiskTierOptions> l3;     // nullopt: no disk tier
  bool l3_admit_all = false;             // false: the doorkeeper keeps one-hit wonders off disk
  std::optional<RedisTierOptions> redis; // nullopt: no shared tier
  // Time source of the RAM tiers' TTLs, also used by l1/l2 when their own clock is null.
  std::shared_ptr<const CacheClock> clock = nullptr;  // null: CacheClock::Real()
};

struct CacheStats {
  std::vector<TierStats> tiers;  // l1, l2 (if on), l3 (if on), redis (if on), in that order
  int64_t prefix_entries = 0;    // checkpoints in the prefix index
  int64_t lookups = 0;           // LookupPrefix + Get calls
  int64_t hits = 0;              // ... that found something in some tier
  int64_t l3_admission_rejections = 0;
  int64_t redis_dirty_sessions = 0;  // session writes Redis missed, waiting to be written again
};

class TieredCache {
 public:
  static Result<std::unique_ptr<TieredCache>> Open(const TieredCacheOptions& options);

  // ---- prefix checkpoints ----
  struct PrefixHit {
    int64_t tokens = 0;  // resume prefill after this many tokens of the prompt
    CacheKey key = 0;
    std::shared_ptr<const Checkpoint> checkpoint;
    std::string_view tier;  // which tier held it: "l1", "l2", "l3" or "redis"
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

  // POST /v1/cache/clear: every local tier and the index; with Redis, also the shared keys under
  // its key_prefix (for every worker) and the writes still queued for it.
  void Clear();
  // For shutdown: waits for queued Redis writes, then moves everything in L1 and L2 down to L3
  // (bypassing the admission filter; expired entries are dropped instead), so the next process
  // starts warm. The cache stays usable (entries come back up from disk on demand). Without L3
  // only the Redis writes are waited for.
  // An error counts entries L3 could not take (they are dropped).
  Status Flush();
  // Drops every entry whose TTL has run out in L1, L2 and L3 (freeing its bytes without waiting
  // for a Get) and forgets dropped prefixes in the index; returns how many. Cheap when nothing is
  // due in the RAM tiers (one comparison per shard); L3 with a TTL scans its index under its
  // lock. Meant to be called every few seconds to minutes (dte serve: every 30 s).
  size_t ExpireDue();
  CacheStats Stats() const;
  bool has_redis() const { return redis_ != nullptr; }
  const PrefixIndex& index() const { return index_; }

 private:
  explicit TieredCache(const TieredCacheOptions& options);
  // Finds `key` in the tiers (L1 keeps; lower tiers hand the entry up into L1).
  // `tier` (optional) gets the name of the tier that held the key.
  std::optional<TierEntry> Find(CacheKey key, std::string_view* tier = nullptr);
  void Insert(CacheKey key, TierEntry entry);
  // Stores locally (replacing lower copies) without writing to Redis.
  void PutLocal(CacheKey key, std::shared_ptr<const Checkpoint> checkpoint, Priority priority);
  // Takes an entry found in Redis into L1 (and the prefix index, for a prefix checkpoint).
  void Adopt(CacheKey key, const RedisTier::Found& found);
  // Sends `evicted` from tier `level` down the stack, dropping what falls off the bottom.
  void Demote(size_t level, std::vector<EvictedEntry> evicted);

  const TieredCacheOptions options_;
  const std::shared_ptr<const CacheClock> clock_;
  PrefixIndex index_;
  std::vector<std::unique_ptr<CacheTier>> tiers_;  // fixed after Open
  DiskTier* disk_ = nullptr;                       // tiers_.back() when L3 is on
  Doorkeeper doorkeeper_;
  std::unique_ptr<RedisTier> redis_;
  StripedCounter lookups_, hits_;
  std::atomic<int64_t> admission_rejections_{0};
};

}  // namespace dte
