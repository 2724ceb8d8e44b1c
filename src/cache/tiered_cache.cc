#include "cache/tiered_cache.h"

#include <xxhash.h>

namespace dte {

TieredCache::TieredCache(const TieredCacheOptions& options)
    : options_(options), clock_(options.clock ? options.clock : CacheClock::Real()), index_(options.block_tokens) {}

Result<std::unique_ptr<TieredCache>> TieredCache::Open(const TieredCacheOptions& options) {
  if (options.block_tokens <= 0) return Status::InvalidArgument("cache: block_tokens must be positive");
  std::unique_ptr<TieredCache> cache(new TieredCache(options));
  RamTierOptions l1 = options.l1;
  if (!l1.clock) l1.clock = cache->clock_;
  cache->tiers_.push_back(std::make_unique<RamTier>(l1));
  if (options.enable_l2) {
    CompressedTierOptions l2 = options.l2;
    if (!l2.clock) l2.clock = cache->clock_;
    cache->tiers_.push_back(std::make_unique<CompressedTier>(l2));
  }
  if (options.l3) {
    DTE_ASSIGN_OR_RETURN(std::unique_ptr<DiskTier> disk, DiskTier::Open(*options.l3));
    cache->disk_ = disk.get();
    for (const auto& [key, meta] : disk->Recovered()) {
      // Only prefix checkpoints are indexed; sessions are found by key.
      if (!meta.prefix.empty() && cache->index_.KeyOf(meta.model_id, meta.prefix) == key)
        cache->index_.Insert(meta.model_id, meta.prefix);
    }
    cache->tiers_.push_back(std::move(disk));
  }
  if (options.redis) {
    DTE_ASSIGN_OR_RETURN(cache->redis_, RedisTier::Open(*options.redis));
  }
  return cache;
}

CacheKey TieredCache::SessionKey(std::string_view model_id, std::string_view session_id) {
  uint64_t seed = XXH64(model_id.data(), model_id.size(), 0x73657373);  // "sess"
  return XXH64(session_id.data(), session_id.size(), seed);
}

std::optional<TierEntry> TieredCache::Find(CacheKey key, std::string_view* tier) {
  std::optional<TierEntry> found = tiers_[0]->Get(key, /*take=*/false);
  if (found) {
    if (tier != nullptr) *tier = tiers_[0]->name();
    // A hit marks the key for the L3 admission filter (read first: the common case writes nothing).
    if (!doorkeeper_.Contains(key)) doorkeeper_.TestAndAdd(key);
    return found;
  }
  for (size_t level = 1; level < tiers_.size(); ++level) {
    found = tiers_[level]->Get(key, /*take=*/true);
    if (!found) continue;
    doorkeeper_.TestAndAdd(key);
    if (tier != nullptr) *tier = tiers_[level]->name();
    found->encoded = nullptr;
    Insert(key, *found);
    return found;
  }
  return std::nullopt;
}

void TieredCache::Insert(CacheKey key, TierEntry entry) {
  std::vector<EvictedEntry> evicted;
  tiers_[0]->Put(key, std::move(entry), &evicted);
  Demote(0, std::move(evicted));
}

void TieredCache::Demote(size_t level, std::vector<EvictedEntry> evicted) {
  while (!evicted.empty()) {
    size_t next = level + 1;
    std::vector<EvictedEntry> further;
    for (EvictedEntry& e : evicted) {
      bool admit = next < tiers_.size();
      if (admit && tiers_[next].get() == disk_ && !options_.l3_admit_all &&
          e.entry.priority != Priority::kConversation) {
        // Sessions always persist; other entries need a previous sighting.
        admit = doorkeeper_.TestAndAdd(e.key);
        if (!admit) admission_rejections_.fetch_add(1, std::memory_order_relaxed);
      }
      if (!admit) {
        index_.Remove(e.key);  // fell off the bottom
        continue;
      }
      std::vector<EvictedEntry> out;
      tiers_[next]->Put(e.key, std::move(e.entry), &out);
      for (EvictedEntry& o : out) further.push_back(std::move(o));
    }
    evicted = std::move(further);
    level = next;
  }
}

std::optional<TieredCache::PrefixHit> TieredCache::LookupPrefix(std::string_view model_id,
                                                                std::span<const int32_t> tokens) {
  lookups_.fetch_add(1, std::memory_order_relaxed);
  std::optional<PrefixHit> best;
  for (const PrefixIndex::Match& m : index_.Matches(model_id, tokens)) {
    std::string_view tier;
    std::optional<TierEntry> e = Find(m.key, &tier);
    if (e) {
      best = PrefixHit{m.tokens, m.key, std::move(e->checkpoint), tier};
      break;
    }
    index_.Remove(m.key);  // the tiers lost it (corrupt file, expired, cleared)
  }
  // Another worker may have cached a longer prefix: one pipelined round trip finds out.
  if (redis_ && (!best || best->tokens < static_cast<int64_t>(tokens.size()))) {
    auto remote = redis_->LookupPrefix(index_, model_id, tokens, best ? best->tokens : 0);
    if (remote) {
      Adopt(remote->key, remote->found);
      best = PrefixHit{remote->tokens, remote->key, remote->found.checkpoint, "redis"};
    }
  }
  if (best) hits_.fetch_add(1, std::memory_order_relaxed);
  return best;
}

CacheKey TieredCache::PutPrefix(std::string_view model_id, std::span<const int32_t> prefix, Checkpoint checkpoint,
                                Priority priority) {
  checkpoint.model_id = std::string(model_id);
  checkpoint.prefix.assign(prefix.begin(), prefix.end());
  checkpoint.tokens = static_cast<int64_t>(prefix.size());
  CacheKey key = index_.Insert(model_id, prefix);
  auto cp = std::make_shared<const Checkpoint>(std::move(checkpoint));
  PutLocal(key, cp, priority);
  if (redis_ && redis_->options().write_prefixes)
    redis_->WriteAsync(key, std::move(cp), priority, index_.Locate(model_id, prefix));
  return key;
}

std::shared_ptr<const Checkpoint> TieredCache::Get(CacheKey key) {
  lookups_.fetch_add(1, std::memory_order_relaxed);
  std::optional<TierEntry> e = Find(key);
  if (e && redis_ && e->priority == Priority::kConversation && redis_->options().check_sessions) {
    // The session may have continued on another worker since this copy was made.
    if (auto newer = redis_->NewerThanLocal(key)) {
      Adopt(key, *newer);
      e = TierEntry{newer->checkpoint, newer->priority, nullptr};
    }
  } else if (!e && redis_) {
    if (auto remote = redis_->Get(key)) {
      Adopt(key, *remote);
      e = TierEntry{remote->checkpoint, remote->priority, nullptr};
    }
  }
  if (!e) return nullptr;
  hits_.fetch_add(1, std::memory_order_relaxed);
  return std::move(e->checkpoint);
}

void TieredCache::PutLocal(CacheKey key, std::shared_ptr<const Checkpoint> checkpoint, Priority priority) {
  // A new value replaces any older copy lower down: one copy per key.
  for (size_t level = 1; level < tiers_.size(); ++level) tiers_[level]->Erase(key);
  // A new value starts a new life: the RAM tiers' TTLs count from here.
  Insert(key, TierEntry{std::move(checkpoint), priority, nullptr, clock_->NowNanos()});
}

void TieredCache::Put(CacheKey key, std::shared_ptr<const Checkpoint> checkpoint, Priority priority) {
  PutLocal(key, checkpoint, priority);
  if (!redis_) return;
  const RedisTierOptions& r = redis_->options();
  if (priority == Priority::kConversation && r.sync_session_writes) redis_->Write(key, checkpoint, priority, std::nullopt);
  else if (priority == Priority::kConversation || r.write_all) redis_->WriteAsync(key, std::move(checkpoint), priority, std::nullopt);
}

void TieredCache::Adopt(CacheKey key, const RedisTier::Found& found) {
  doorkeeper_.TestAndAdd(key);
  PutLocal(key, found.checkpoint, found.priority);
  const Checkpoint& cp = *found.checkpoint;
  if (!cp.prefix.empty() && index_.KeyOf(cp.model_id, cp.prefix) == key) index_.Insert(cp.model_id, cp.prefix);
}

bool TieredCache::Erase(CacheKey key) {
  bool any = false;
  for (auto& t : tiers_) any |= t->Erase(key);
  index_.Remove(key);
  if (redis_) redis_->Erase(key);
  return any;
}

void TieredCache::Clear() {
  if (redis_) redis_->Clear();
  for (auto& t : tiers_) t->Clear();
  index_.Clear();
  doorkeeper_.Clear();
}

Status TieredCache::Flush() {
  if (redis_) redis_->Drain();
  if (!disk_) return Status::Ok();
  ExpireDue();  // what has expired is not worth writing down
  size_t failed = 0;
  // L2 first, then L1: the most recently used entries end up newest in L3's order.
  for (size_t level = tiers_.size() - 1; level-- > 0;) {
    for (EvictedEntry& e : tiers_[level]->TakeAll()) {
      std::vector<EvictedEntry> dropped;
      if (!disk_->Put(e.key, std::move(e.entry), &dropped)) ++failed;
      for (const EvictedEntry& d : dropped) index_.Remove(d.key);
    }
  }
  if (failed) return Status::IoError("cache flush: " + std::to_string(failed) + " entries could not be written to L3");
  return Status::Ok();
}

size_t TieredCache::ExpireDue() {
  std::vector<CacheKey> expired;
  size_t n = 0;
  for (auto& t : tiers_) n += t->ExpireDue(&expired);
  for (CacheKey key : expired) {
    // A Put racing the sweep may have cached the key again: keep its index entry then. (Losing
    // one would only cost a missed prefix hit.)
    bool held = false;
    for (const auto& t : tiers_) held = held || t->Contains(key);
    if (!held) index_.Remove(key);
  }
  return n;
}

CacheStats TieredCache::Stats() const {
  CacheStats s;
  for (const auto& t : tiers_) s.tiers.push_back(t->Stats());
  if (redis_) {
    s.tiers.push_back(redis_->Stats());
    s.redis_dirty_sessions = static_cast<int64_t>(redis_->dirty_sessions());
  }
  s.prefix_entries = static_cast<int64_t>(index_.size());
  s.lookups = lookups_.load(std::memory_order_relaxed);
  s.hits = hits_.load(std::memory_order_relaxed);
  s.l3_admission_rejections = admission_rejections_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace dte
