#pragma once
// EvictionPolicy: decides which entry of one cache shard leaves next. It tracks keys only (the
// shard owns the values) through small integer handles, so a hit costs no extra hash lookup.
//
// Priority weights (PriorityWeight, 0.5..1.0) scale retention:
//  * LRU: the victim is the entry with the largest age / weight among the kLruWindow least
//    recently used ones (age in accesses), so with equal weights it is exactly LRU, and a
//    conversation entry (1.0) outlives a general one (0.5) of up to twice its age.
//  * SIEVE (Zhang et al., NSDI'24): the hand visits entries from oldest to newest; a visited
//    (hit) entry is spared and unmarked; an unvisited one pays 0.5 / weight of debt per visit and
//    leaves when its debt reaches 1. General entries (0.5) behave exactly as in SIEVE; heavier
//    classes survive one more unvisited pass.
//  * S3-FIFO (Yang et al., SOSP'23; eviction_s3fifo.cc): the same debt rule at the tail of its
//    small and main queues: an entry without hits to spend gets another lap (0.5 / weight of debt
//    per lap, leaves at 1), so heavier classes get one extra lap in each queue.
//  * W-TinyLFU (Einziger et al.; eviction_wtinylfu.cc): in the admission duel between the entry
//    leaving the window and the main part's victim, each side's estimated frequency is multiplied
//    by its weight.
//
// Not thread-safe: each shard calls its policy under the shard's lock.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "cache/checkpoint.h"

namespace dte {

enum class EvictionPolicyKind { kLru, kSieve, kS3Fifo, kWTinyLfu };
std::string_view EvictionPolicyName(EvictionPolicyKind kind);  // "lru", "sieve", "s3fifo", "wtinylfu"
std::optional<EvictionPolicyKind> ParseEvictionPolicy(std::string_view name);

class EvictionPolicy {
 public:
  using Handle = uint32_t;
  static constexpr int kLruWindow = 8;

  static std::unique_ptr<EvictionPolicy> Make(EvictionPolicyKind kind);
  virtual ~EvictionPolicy() = default;

  // Starts tracking a new key; the handle stays valid until Erase or until Evict returns it.
  virtual Handle Insert(CacheKey key, float weight) = 0;
  virtual void Touch(Handle h) = 0;  // a hit
  virtual void Erase(Handle h) = 0;  // the shard dropped the key itself
  // Chooses a victim, forgets it and returns its key; nullopt when empty.
  virtual std::optional<CacheKey> Evict() = 0;
  virtual size_t size() const = 0;
};

}  // namespace dte
