#pragma once
// ShardedStore<V>: the RAM map under L1 and L2. Keys are spread over shards (each its own mutex,
// map and EvictionPolicy) so threads rarely contend; bytes are accounted against one global
// budget, and an insert that overflows it evicts (starting in its own shard, then the next ones)
// until the store fits again. Evicted values are returned to the caller, who demotes them.
// Each item may carry a deadline (CacheClock nanoseconds, kNever: none): Find with a `now` at or
// past it drops the item instead of returning it, and ExpireDue(now) drops every such item; each
// shard keeps a lower bound of its deadlines, so a sweep with nothing due only reads one number
// per shard.
//
// V is a cheap-to-copy handle (a shared_ptr). Thread-safe: all methods may be called concurrently.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/check.h"
#include "cache/checkpoint.h"
#include "cache/eviction_policy.h"
#include "cache/flat_map.h"

namespace dte {

template <class V>
class ShardedStore {
 public:
  struct Item {
    V value;
    size_t bytes = 0;      // accounted size
    size_t raw_bytes = 0;  // decoded size (for the compression ratio)
    Priority priority = Priority::kGeneral;
    int64_t cached_at = kUnstamped;  // travels with the entry (TierEntry::cached_at)
    int64_t deadline = kNever;       // expires when now >= deadline
  };
  struct Evicted {
    CacheKey key;
    Item item;
  };

  ShardedStore(size_t capacity_bytes, int shards, EvictionPolicyKind policy)
      : capacity_(capacity_bytes), shards_(shards > 0 ? shards : 1) {
    for (auto& s : shards_) s.policy = EvictionPolicy::Make(policy);
  }

  // Finds `key`; take=true also removes it (a promotion). Counts as an access for the policy.
  // An item whose deadline is at or before `now` is removed and reported as a miss with
  // *expired = true (pass now = kUnstamped to skip the check: no deadline is that early).
  std::optional<Item> Find(CacheKey key, bool take, int64_t now = kUnstamped, bool* expired = nullptr) {
    Shard& s = ShardOf(key);
    std::lock_guard lock(s.mu);
    Slot* slot = s.map.Find(key);
    if (slot == nullptr) return std::nullopt;
    if (slot->item.deadline <= now) {
      Unaccount(s, slot->item);
      s.policy->Erase(slot->handle);
      s.map.Erase(key);
      if (expired) *expired = true;
      return std::nullopt;
    }
    if (!take) {
      s.policy->Touch(slot->handle);
      return slot->item;
    }
    Item item = std::move(slot->item);
    s.policy->Erase(slot->handle);
    s.map.Erase(key);
    Unaccount(s, item);
    return item;
  }

  // Inserts or replaces `key`. Entries evicted for room are appended to *evicted (the new entry
  // itself when it is larger than the whole budget).
  void Insert(CacheKey key, Item item, std::vector<Evicted>* evicted) {
    if (item.bytes > capacity_) {
      evicted->push_back({key, std::move(item)});
      return;
    }
    size_t home = ShardIndex(key);
    {
      Shard& s = shards_[home];
      std::lock_guard lock(s.mu);
      // One adjustment of the global byte count for the net change (a locked add is the most
      // expensive step of a put).
      int64_t d_bytes = static_cast<int64_t>(item.bytes), d_raw = static_cast<int64_t>(item.raw_bytes), d_entries = 1;
      if (Slot* old = s.map.Find(key)) {
        d_bytes -= static_cast<int64_t>(old->item.bytes);
        d_raw -= static_cast<int64_t>(old->item.raw_bytes);
        d_entries = 0;
        s.policy->Erase(old->handle);
        s.map.Erase(key);
      }
      Adjust(s, d_bytes, d_raw, d_entries);
      if (item.deadline < s.earliest) s.earliest = item.deadline;
      auto h = s.policy->Insert(key, PriorityWeight(item.priority));
      s.map.Insert(key, Slot{std::move(item), h});
    }
    // Evict until the budget holds: the home shard first, then its neighbours.
    for (size_t i = 0; i < shards_.size() && bytes_.load(std::memory_order_relaxed) > capacity_; ++i) {
      Shard& s = shards_[(home + i) % shards_.size()];
      std::lock_guard lock(s.mu);
      while (bytes_.load(std::memory_order_relaxed) > capacity_) {
        std::optional<CacheKey> victim = s.policy->Evict();
        if (!victim) break;
        Slot* slot = s.map.Find(*victim);
        DTE_CHECK(slot != nullptr, "sharded store: policy and map disagree");
        if (*victim == key) {
          // Never push out the entry being inserted (it fits the budget): keep it as the newest.
          slot->handle = s.policy->Insert(key, PriorityWeight(slot->item.priority));
          if (s.map.size() == 1) break;
          continue;
        }
        Unaccount(s, slot->item);
        evicted->push_back({*victim, std::move(slot->item)});
        s.map.Erase(*victim);
      }
    }
  }

  // Whether `key` is held and not expired at `now` (kUnstamped: ignore deadlines).
  bool Contains(CacheKey key, int64_t now = kUnstamped) {
    Shard& s = ShardOf(key);
    std::lock_guard lock(s.mu);
    Slot* slot = s.map.Find(key);
    return slot != nullptr && slot->item.deadline > now;
  }

  bool Erase(CacheKey key) {
    Shard& s = ShardOf(key);
    std::lock_guard lock(s.mu);
    Slot* slot = s.map.Find(key);
    if (slot == nullptr) return false;
    Unaccount(s, slot->item);
    s.policy->Erase(slot->handle);
    s.map.Erase(key);
    return true;
  }

  // Removes every item whose deadline is at or before `now` and appends it to *expired.
  void ExpireDue(int64_t now, std::vector<Evicted>* expired) {
    std::vector<CacheKey> due;
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      if (s.earliest > now) continue;  // nothing due in this shard
      int64_t earliest = kNever;
      due.clear();
      s.map.ForEach([&](CacheKey key, Slot& slot) {
        if (slot.item.deadline <= now) due.push_back(key);
        else if (slot.item.deadline < earliest) earliest = slot.item.deadline;
      });
      for (CacheKey key : due) {
        Slot* slot = s.map.Find(key);
        Unaccount(s, slot->item);
        s.policy->Erase(slot->handle);
        expired->push_back({key, std::move(slot->item)});
        s.map.Erase(key);
      }
      s.earliest = earliest;
    }
  }

  // Removes everything, calling `drop(key)` for each entry removed.
  void Clear(const std::function<void(CacheKey)>& drop = {}) {
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      s.map.ForEach([&](CacheKey key, Slot& slot) {
        Unaccount(s, slot.item);
        s.policy->Erase(slot.handle);
        if (drop) drop(key);
      });
      s.map.Clear();
      s.earliest = kNever;
    }
  }

  // Removes and returns everything (Flush moves it down a tier).
  std::vector<Evicted> TakeAll() {
    std::vector<Evicted> out;
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      s.map.ForEach([&](CacheKey key, Slot& slot) {
        Unaccount(s, slot.item);
        s.policy->Erase(slot.handle);
        out.push_back({key, std::move(slot.item)});
      });
      s.map.Clear();
      s.earliest = kNever;
    }
    return out;
  }

  int64_t entries() const {
    int64_t n = 0;
    for (const Shard& s : shards_) n += s.entries.load(std::memory_order_relaxed);
    return n;
  }
  int64_t bytes() const { return static_cast<int64_t>(bytes_.load(std::memory_order_relaxed)); }
  int64_t raw_bytes() const {
    int64_t n = 0;
    for (const Shard& s : shards_) n += s.raw_bytes.load(std::memory_order_relaxed);
    return n;
  }
  size_t capacity() const { return capacity_; }

 private:
  struct Slot {
    Item item;
    EvictionPolicy::Handle handle = 0;
  };
  struct Shard {
    std::mutex mu;
    FlatMap<Slot> map;                         // GUARDED_BY(mu)
    std::unique_ptr<EvictionPolicy> policy;    // GUARDED_BY(mu)
    int64_t earliest = kNever;                 // GUARDED_BY(mu); <= every item's deadline
    std::atomic<int64_t> entries{0}, raw_bytes{0};  // written under mu
  };

  size_t ShardIndex(CacheKey key) const {
    // Keys are hashes already; mix the high bits in so sequential test keys spread too.
    return static_cast<size_t>((key ^ (key >> 29) ^ (key >> 47)) % shards_.size());
  }
  Shard& ShardOf(CacheKey key) { return shards_[ShardIndex(key)]; }
  // Caller holds s.mu. The global byte count takes a locked add; the shard's own counts are only
  // written under its lock, so a plain load + store suffices (readers load them atomically).
  void Adjust(Shard& s, int64_t d_bytes, int64_t d_raw, int64_t d_entries) {
    if (d_bytes != 0) bytes_.fetch_add(static_cast<size_t>(d_bytes), std::memory_order_relaxed);
    s.raw_bytes.store(s.raw_bytes.load(std::memory_order_relaxed) + d_raw, std::memory_order_relaxed);
    s.entries.store(s.entries.load(std::memory_order_relaxed) + d_entries, std::memory_order_relaxed);
  }
  void Unaccount(Shard& s, const Item& item) {
    Adjust(s, -static_cast<int64_t>(item.bytes), -static_cast<int64_t>(item.raw_bytes), -1);
  }

  const size_t capacity_;
  std::vector<Shard> shards_;
  std::atomic<size_t> bytes_{0};  // against capacity_, across shards
};

}  // namespace dte
