#include "cache/compressed_tier.h"

#include "base/clock.h"
#include "base/log.h"

namespace dte {

CompressedTier::CompressedTier(const CompressedTierOptions& options)
    : codec_(options.codec), store_(options.capacity_bytes, options.shards, options.policy) {}

std::optional<TierEntry> CompressedTier::Get(CacheKey key, bool take) {
  auto start = SteadyClock::now();
  std::optional<Store::Item> item = store_.Find(key, take);
  if (!item) {
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  Result<DecodedCheckpoint> decoded = DecodeCheckpoint(*item->value);
  if (!decoded.ok()) {  // cannot happen short of a memory error; never serve it
    counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    if (!take) store_.Erase(key);
    return std::nullopt;
  }
  counters_.get_latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count());
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  if (take) counters_.promotions.fetch_add(1, std::memory_order_relaxed);
  return TierEntry{std::make_shared<const Checkpoint>(std::move(decoded->checkpoint)), item->priority,
                   take ? nullptr : item->value};
}

bool CompressedTier::Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) {
  Blob blob = entry.encoded;
  size_t raw = 0;
  if (entry.checkpoint) {
    raw = entry.checkpoint->bytes();
    if (!blob) blob = std::make_shared<const std::vector<uint8_t>>(EncodeCheckpoint(*entry.checkpoint, entry.priority, codec_));
  } else {
    DTE_CHECK(blob != nullptr, "l2: an entry with neither checkpoint nor encoded bytes");
    auto meta = PeekCheckpointMeta(*blob);
    if (!meta.ok()) {
      counters_.rejections.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    raw = meta->decoded_bytes;
  }
  std::vector<Store::Evicted> out;
  store_.Insert(key, Store::Item{blob, blob->size(), raw, entry.priority}, &out);
  bool stored = true;
  for (auto& e : out) {
    if (e.key == key && e.item.value == blob) {
      stored = false;
      counters_.rejections.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.evictions.fetch_add(1, std::memory_order_relaxed);
    }
    evicted->push_back({e.key, TierEntry{nullptr, e.item.priority, std::move(e.item.value)}});
  }
  return stored;
}

bool CompressedTier::Contains(CacheKey key) const { return store_.Contains(key); }
bool CompressedTier::Erase(CacheKey key) { return store_.Erase(key); }
void CompressedTier::Clear() { store_.Clear(); }

std::vector<EvictedEntry> CompressedTier::TakeAll() {
  std::vector<EvictedEntry> out;
  for (auto& e : store_.TakeAll()) out.push_back({e.key, TierEntry{nullptr, e.item.priority, std::move(e.item.value)}});
  return out;
}

TierStats CompressedTier::Stats() const {
  TierStats s;
  s.name = "l2";
  s.entries = store_.entries();
  s.bytes = store_.bytes();
  s.raw_bytes = store_.raw_bytes();
  s.capacity_bytes = static_cast<int64_t>(store_.capacity());
  counters_.Fill(&s);
  return s;
}

}  // namespace dte
