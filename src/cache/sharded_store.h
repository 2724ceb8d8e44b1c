#pragma once
// ShardedStore<V>: the RAM map under L1 and L2. Keys are spread over shards (each its own mutex,
// map and EvictionPolicy) so threads rarely contend; bytes are accounted against one global
// budget, and an insert that overflows it evicts (starting in its own shard, then the next ones)
// until the store fits again. Evicted values are returned to the caller, who demotes them.
//
// V is a cheap-to-copy handle (a shared_ptr). Thread-safe: all methods may be called concurrently.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/check.h"
#include "cache/checkpoint.h"
#include "cache/eviction_policy.h"

namespace dte {

template <class V>
class ShardedStore {
 public:
  struct Item {
    V value;
    size_t bytes = 0;      // accounted size
    size_t raw_bytes = 0;  // decoded size (for the compression ratio)
    Priority priority = Priority::kGeneral;
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
  std::optional<Item> Find(CacheKey key, bool take) {
    Shard& s = ShardOf(key);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return std::nullopt;
    if (!take) {
      s.policy->Touch(it->second.handle);
      return it->second.item;
    }
    Item item = std::move(it->second.item);
    s.policy->Erase(it->second.handle);
    s.map.erase(it);
    Unaccount(item);
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
      auto it = s.map.find(key);
      if (it != s.map.end()) {
        Unaccount(it->second.item);
        s.policy->Erase(it->second.handle);
        s.map.erase(it);
      }
      Account(item);
      auto h = s.policy->Insert(key, PriorityWeight(item.priority));
      s.map.emplace(key, Slot{std::move(item), h});
    }
    // Evict until the budget holds: the home shard first, then its neighbours.
    for (size_t i = 0; i < shards_.size() && bytes_.load(std::memory_order_relaxed) > capacity_; ++i) {
      Shard& s = shards_[(home + i) % shards_.size()];
      std::lock_guard lock(s.mu);
      while (bytes_.load(std::memory_order_relaxed) > capacity_) {
        std::optional<CacheKey> victim = s.policy->Evict();
        if (!victim) break;
        auto it = s.map.find(*victim);
        DTE_CHECK(it != s.map.end(), "sharded store: policy and map disagree");
        if (*victim == key) {
          // Never push out the entry being inserted (it fits the budget): keep it as the newest.
          it->second.handle = s.policy->Insert(key, PriorityWeight(it->second.item.priority));
          if (s.map.size() == 1) break;
          continue;
        }
        Unaccount(it->second.item);
        evicted->push_back({*victim, std::move(it->second.item)});
        s.map.erase(it);
      }
    }
  }

  bool Contains(CacheKey key) {
    Shard& s = ShardOf(key);
    std::lock_guard lock(s.mu);
    return s.map.contains(key);
  }

  bool Erase(CacheKey key) {
    Shard& s = ShardOf(key);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return false;
    Unaccount(it->second.item);
    s.policy->Erase(it->second.handle);
    s.map.erase(it);
    return true;
  }

  // Removes everything, calling `drop(key)` for each entry removed.
  void Clear(const std::function<void(CacheKey)>& drop = {}) {
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      for (auto& [key, slot] : s.map) {
        Unaccount(slot.item);
        s.policy->Erase(slot.handle);
        if (drop) drop(key);
      }
      s.map.clear();
    }
  }

  int64_t entries() const { return entries_.load(std::memory_order_relaxed); }
  int64_t bytes() const { return static_cast<int64_t>(bytes_.load(std::memory_order_relaxed)); }
  int64_t raw_bytes() const { return static_cast<int64_t>(raw_bytes_.load(std::memory_order_relaxed)); }
  size_t capacity() const { return capacity_; }

 private:
  struct Slot {
    Item item;
    EvictionPolicy::Handle handle;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<CacheKey, Slot> map;    // GUARDED_BY(mu)
    std::unique_ptr<EvictionPolicy> policy;    // GUARDED_BY(mu)
  };

  size_t ShardIndex(CacheKey key) const {
    // Keys are hashes already; mix the high bits in so sequential test keys spread too.
    return static_cast<size_t>((key ^ (key >> 29) ^ (key >> 47)) % shards_.size());
  }
  Shard& ShardOf(CacheKey key) { return shards_[ShardIndex(key)]; }
  void Account(const Item& item) {
    bytes_.fetch_add(item.bytes, std::memory_order_relaxed);
    raw_bytes_.fetch_add(item.raw_bytes, std::memory_order_relaxed);
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  void Unaccount(const Item& item) {
    bytes_.fetch_sub(item.bytes, std::memory_order_relaxed);
    raw_bytes_.fetch_sub(item.raw_bytes, std::memory_order_relaxed);
    entries_.fetch_sub(1, std::memory_order_relaxed);
  }

  const size_t capacity_;
  std::vector<Shard> shards_;
  std::atomic<size_t> bytes_{0}, raw_bytes_{0};
  std::atomic<int64_t> entries_{0};
};

}  // namespace dte
