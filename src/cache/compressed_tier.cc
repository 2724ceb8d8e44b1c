#include "cache/compressed_tier.h"

#include "base/clock.h"
#include "base/log.h"

namespace dte {

CompressedTier::CompressedTier(const CompressedTierOptions& options)
    : codec_(options.codec),
      policy_(options.policy),
      ttl_(options.ttl),
      session_ttl_(options.session_ttl),
      has_ttl_(options.ttl.count() > 0 || options.session_ttl.count() > 0),
      clock_(options.clock ? options.clock : CacheClock::Real()),
      store_(options.capacity_bytes, options.shards, options.policy) {}

std::optional<TierEntry> CompressedTier::Get(CacheKey key, bool take) {
  auto start = SteadyClock::now();
  bool expired = false;
  std::optional<Store::Item> item = store_.Find(key, take, has_ttl_ ? clock_->NowNanos() : kUnstamped, &expired);
  if (!item) {
    if (expired) counters_.expirations.fetch_add(1, std::memory_order_relaxed);
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
                   take ? nullptr : item->value, item->cached_at};
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
  const int64_t cached_at = entry.cached_at != kUnstamped ? entry.cached_at : clock_->NowNanos();
  const int64_t deadline =
      DeadlineOf(cached_at, entry.priority == Priority::kConversation ? session_ttl_ : ttl_);
  std::vector<Store::Evicted> out;
  store_.Insert(key, Store::Item{blob, blob->size(), raw, entry.priority, cached_at, deadline}, &out);
  bool stored = true;
  for (auto& e : out) {
    if (e.key == key && e.item.value == blob) {
      stored = false;
      counters_.rejections.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.evictions.fetch_add(1, std::memory_order_relaxed);
    }
    evicted->push_back({e.key, TierEntry{nullptr, e.item.priority, std::move(e.item.value), e.item.cached_at}});
  }
  return stored;
}

bool CompressedTier::Contains(CacheKey key) const {
  return store_.Contains(key, has_ttl_ ? clock_->NowNanos() : kUnstamped);
}
bool CompressedTier::Erase(CacheKey key) { return store_.Erase(key); }
void CompressedTier::Clear() { store_.Clear(); }

std::vector<EvictedEntry> CompressedTier::TakeAll() {
  std::vector<EvictedEntry> out;
  for (auto& e : store_.TakeAll())
    out.push_back({e.key, TierEntry{nullptr, e.item.priority, std::move(e.item.value), e.item.cached_at}});
  return out;
}

size_t CompressedTier::ExpireDue(std::vector<CacheKey>* expired) {
  if (!has_ttl_) return 0;
  std::vector<Store::Evicted> out;
  store_.ExpireDue(clock_->NowNanos(), &out);
  for (const auto& e : out) expired->push_back(e.key);
  counters_.expirations.fetch_add(static_cast<int64_t>(out.size()), std::memory_order_relaxed);
  return out.size();
}

TierStats CompressedTier::Stats() const {
  TierStats s;
  s.name = "l2";
  s.eviction = std::string(EvictionPolicyName(policy_));
  s.entries = store_.entries();
  s.bytes = store_.bytes();
  s.raw_bytes = store_.raw_bytes();
  s.capacity_bytes = static_cast<int64_t>(store_.capacity());
  counters_.Fill(&s);
  return s;
}

}  // namespace dte
