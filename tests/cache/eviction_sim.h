#pragma once
// PolicySim: a key-only cache of a fixed entry count driven by one EvictionPolicy, for the
// eviction policy tests: an access of a held key is a hit (Touch), a miss inserts the key and
// evicts until the count fits again.

#include <memory>
#include <unordered_map>

#include "cache/eviction_policy.h"

namespace dte {

class PolicySim {
 public:
  PolicySim(EvictionPolicyKind kind, size_t capacity)
      : policy_(EvictionPolicy::Make(kind)), capacity_(capacity) {}

  // Returns whether `key` was held (a hit).
  bool Access(CacheKey key, float weight = 0.5f) {
    auto it = handles_.find(key);
    if (it != handles_.end()) {
      policy_->Touch(it->second);
      return true;
    }
    handles_[key] = policy_->Insert(key, weight);
    while (policy_->size() > capacity_) {
      auto victim = policy_->Evict();
      if (!victim) break;
      handles_.erase(*victim);
    }
    return false;
  }
  // Drops `key` as a shard would on its own (expiry, replacement); returns whether it was held.
  bool Erase(CacheKey key) {
    auto it = handles_.find(key);
    if (it == handles_.end()) return false;
    policy_->Erase(it->second);
    handles_.erase(it);
    return true;
  }
  bool Holds(CacheKey key) const { return handles_.count(key) != 0; }
  size_t size() const { return handles_.size(); }
  EvictionPolicy& policy() { return *policy_; }

 private:
  std::unique_ptr<EvictionPolicy> policy_;
  size_t capacity_;
  std::unordered_map<CacheKey, EvictionPolicy::Handle> handles_;
};

// Hot keys 1..hot are used `warm` times each, then a scan of `scan` one-time keys runs with every
// hot key used once after each `burst` scan keys. Returns the hit ratio of those hot-key uses.
inline double HotHitRatioUnderScan(EvictionPolicyKind kind, size_t capacity, int hot, int warm,
                                   int scan, int burst) {
  PolicySim sim(kind, capacity);
  for (int r = 0; r < warm; ++r)
    for (int k = 1; k <= hot; ++k) sim.Access(k);
  int uses = 0, hits = 0;
  for (int i = 0; i < scan; ++i) {
    sim.Access(1000000 + i);
    if ((i + 1) % burst != 0) continue;
    for (int k = 1; k <= hot; ++k) {
      ++uses;
      hits += sim.Access(k) ? 1 : 0;
    }
  }
  return uses == 0 ? 0 : static_cast<double>(hits) / uses;
}

}  // namespace dte
