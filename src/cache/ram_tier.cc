#include "cache/ram_tier.h"

#include "base/clock.h"

namespace dte {

namespace {
// Timing every L1 get would cost as much as the get itself; sample one in 16 per thread.
bool SampleTiming() {
  thread_local uint32_t n = 0;
  return (n++ & 15) == 0;
}
}  // namespace

RamTier::RamTier(const RamTierOptions& options)
    : policy_(options.policy),
      ttl_(options.ttl),
      session_ttl_(options.session_ttl),
      has_ttl_(options.ttl.count() > 0 || options.session_ttl.count() > 0),
      clock_(options.clock ? options.clock : CacheClock::Real()),
      store_(options.capacity_bytes, options.shards, options.policy) {}

std::optional<TierEntry> RamTier::Get(CacheKey key, bool take) {
  bool timed = SampleTiming();
  SteadyClock::time_point start;
  if (timed) start = SteadyClock::now();
  bool expired = false;
  std::optional<Store::Item> item = store_.Find(key, take, NowForCheck(), &expired);
  if (timed)
    counters_.get_latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count());
  if (!item) {
    if (expired) counters_.expirations.fetch_add(1, std::memory_order_relaxed);
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  if (take) counters_.promotions.fetch_add(1, std::memory_order_relaxed);
  return TierEntry{std::move(item->value), item->priority, nullptr, item->cached_at};
}

bool RamTier::Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) {
  size_t bytes = entry.checkpoint->bytes();
  const int64_t cached_at = entry.cached_at != kUnstamped ? entry.cached_at : clock_->NowNanos();
  const int64_t deadline =
      DeadlineOf(cached_at, entry.priority == Priority::kConversation ? session_ttl_ : ttl_);
  std::vector<Store::Evicted> out;
  store_.Insert(key, Store::Item{entry.checkpoint, bytes, bytes, entry.priority, cached_at, deadline}, &out);
  bool stored = true;
  for (auto& e : out) {
    if (e.key == key && e.item.value == entry.checkpoint) {
      stored = false;  // larger than the whole tier
      counters_.rejections.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.evictions.fetch_add(1, std::memory_order_relaxed);
    }
    evicted->push_back({e.key, TierEntry{std::move(e.item.value), e.item.priority, nullptr, e.item.cached_at}});
  }
  return stored;
}

bool RamTier::Contains(CacheKey key) const {
  // A peek must not disturb the policy: look without touching.
  return store_.Contains(key, NowForCheck());
}

bool RamTier::Erase(CacheKey key) { return store_.Erase(key); }
void RamTier::Clear() { store_.Clear(); }

std::vector<EvictedEntry> RamTier::TakeAll() {
  std::vector<EvictedEntry> out;
  for (auto& e : store_.TakeAll())
    out.push_back({e.key, TierEntry{std::move(e.item.value), e.item.priority, nullptr, e.item.cached_at}});
  return out;
}

size_t RamTier::ExpireDue(std::vector<CacheKey>* expired) {
  if (!has_ttl_) return 0;
  std::vector<Store::Evicted> out;
  store_.ExpireDue(clock_->NowNanos(), &out);
  for (const auto& e : out) expired->push_back(e.key);
  counters_.expirations.fetch_add(static_cast<int64_t>(out.size()), std::memory_order_relaxed);
  return out.size();
}

TierStats RamTier::Stats() const {
  TierStats s;
  s.name = "l1";
  s.eviction = std::string(EvictionPolicyName(policy_));
  s.entries = store_.entries();
  s.bytes = store_.bytes();
  s.raw_bytes = store_.raw_bytes();
  s.capacity_bytes = static_cast<int64_t>(store_.capacity());
  counters_.Fill(&s);
  return s;
}

}  // namespace dte
