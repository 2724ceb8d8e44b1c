#pragma once
// CacheTier: one level of the state cache (L1 RAM, L2 compressed RAM, L3 disk; the shared Redis tier is
// separate: RedisTier).
// TieredCache stacks them; a tier knows nothing of its neighbours: Put reports what it evicted,
// Get(take=true) hands an entry over for promotion.
//
// Thread-safe: every method may be called from any thread.

#include <optional>
#include <string_view>
#include <vector>

#include "cache/cache_stats.h"
#include "cache/checkpoint.h"

namespace dte {

class CacheTier {
 public:
  virtual ~CacheTier() = default;
  virtual std::string_view name() const = 0;

  // Looks `key` up (counting a hit or a miss). take=false keeps the entry (and counts an access
  // for eviction); take=true removes it, counting a promotion: the caller moves it up.
  virtual std::optional<TierEntry> Get(CacheKey key, bool take) = 0;
  // Stores `entry` (replacing any under `key`). Entries pushed out to make room, and the entry
  // itself when it is refused, are appended to *evicted. Returns false when refused.
  virtual bool Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) = 0;
  virtual bool Contains(CacheKey key) const = 0;
  virtual bool Erase(CacheKey key) = 0;
  virtual void Clear() = 0;
  virtual TierStats Stats() const = 0;
  // Drops every entry whose TTL has run out (counted as expirations) and appends their keys to
  // *expired; returns how many. A tier without a TTL does nothing. Meant for a periodic sweep
  // (TieredCache::ExpireDue), so expired bytes are freed without waiting for a Get.
  virtual size_t ExpireDue(std::vector<CacheKey>* expired) { return 0; }
  // Removes and returns every entry (TieredCache::Flush writes them to the tier below). A tier
  // that is already the bottom returns nothing.
  virtual std::vector<EvictedEntry> TakeAll() { return {}; }
};

}  // namespace dte
