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
    : store_(options.capacity_bytes, options.shards, options.policy) {}

std::optional<TierEntry> RamTier::Get(CacheKey key, bool take) {
  bool timed = SampleTiming();
  SteadyClock::time_point start;
  if (timed) start = SteadyClock::now();
  std::optional<Store::Item> item = store_.Find(key, take);
  if (timed)
    counters_.get_latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count());
  if (!item) {
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  if (take) counters_.promotions.fetch_add(1, std::memory_order_relaxed);
  return TierEntry{std::move(item->value), item->priority, nullptr};
}

bool RamTier::Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) {
  size_t bytes = entry.checkpoint->bytes();
  std::vector<Store::Evicted> out;
  store_.Insert(key, Store::Item{entry.checkpoint, bytes, bytes, entry.priority}, &out);
  bool stored = true;
  for (auto& e : out) {
    if (e.key == key && e.item.value == entry.checkpoint) {
      stored = false;  // larger than the whole tier
      counters_.rejections.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.evictions.fetch_add(1, std::memory_order_relaxed);
    }
    evicted->push_back({e.key, TierEntry{std::move(e.item.value), e.item.priority, nullptr}});
  }
  return stored;
}

bool RamTier::Contains(CacheKey key) const {
  // A peek must not disturb the policy: look without touching.
  return store_.Contains(key);
}

bool RamTier::Erase(CacheKey key) { return store_.Erase(key); }
void RamTier::Clear() { store_.Clear(); }

std::vector<EvictedEntry> RamTier::TakeAll() {
  std::vector<EvictedEntry> out;
  for (auto& e : store_.TakeAll()) out.push_back({e.key, TierEntry{std::move(e.item.value), e.item.priority, nullptr}});
  return out;
}

TierStats RamTier::Stats() const {
  TierStats s;
  s.name = "l1";
  s.entries = store_.entries();
  s.bytes = store_.bytes();
  s.raw_bytes = store_.raw_bytes();
  s.capacity_bytes = static_cast<int64_t>(store_.capacity());
  counters_.Fill(&s);
  return s;
}

}  // namespace dte
