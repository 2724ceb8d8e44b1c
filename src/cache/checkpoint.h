#pragma once
// What the state cache stores: a checkpoint of one sequence (its serialized State plus the
// logits after its last token), keyed by a 64-bit CacheKey, with a priority class that shapes
// eviction. Plain values; a cached checkpoint is shared read-only as shared_ptr<const Checkpoint>.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_clock.h"

namespace dte {

// A cache key: PrefixIndex::KeyOf(model, prefix) for prefix checkpoints, SessionKey() for sessions.
using CacheKey = uint64_t;

struct Checkpoint {
  std::string model_id;         // which model the state belongs to
  std::vector<int32_t> prefix;  // the token ids, for a prefix checkpoint (rebuilds the index on restart)
  int64_t tokens = 0;           // how many tokens the state has seen
  std::vector<uint8_t> state;   // State::Serialize()
  std::vector<float> logits;    // n_vocab floats after the last token (may be empty)

  // Bytes accounted against a RAM budget (payload plus a fixed overhead).
  size_t bytes() const {
    return state.size() + logits.size() * sizeof(float) + prefix.size() * sizeof(int32_t) +
           model_id.size() + 64;
  }
  bool operator==(const Checkpoint&) const = default;
};

// Priority classes (the prototype's "cognitive priorities"). The weight scales how long an entry is
// retained relative to others: see EvictionPolicy.
enum class Priority : uint8_t {
  kGeneral = 0,
  kGrammar = 1,
  kReasoning = 2,
  kMemoryRetrieval = 3,
  kConversation = 4,
};
inline constexpr int kPriorityCount = 5;

// conversation 1.0, memory retrieval 0.9, reasoning 0.8, grammar 0.7, general 0.5.
float PriorityWeight(Priority p);
std::string_view PriorityName(Priority p);  // "conversation", "memory_retrieval", ...
std::optional<Priority> ParsePriority(std::string_view name);

// A tier's view of one entry. `checkpoint` is set, except for an entry evicted from a compressed
// tier, which carries only `encoded` (EncodeCheckpoint bytes) so the next tier need not re-encode.
// `cached_at` (CacheClock nanoseconds) is when the value was put into the cache; the RAM tiers'
// TTLs count from it and it travels with the entry when L1 demotes it to L2 or L2 promotes it to
// L1, so moving between RAM tiers never resets an entry's age. kUnstamped: the tier stamps it.
struct TierEntry {
  std::shared_ptr<const Checkpoint> checkpoint;
  Priority priority = Priority::kGeneral;
  std::shared_ptr<const std::vector<uint8_t>> encoded;
  int64_t cached_at = kUnstamped;
};

// An entry pushed out of a tier; the caller hands it to the next tier down (or drops it).
struct EvictedEntry {
  CacheKey key = 0;
  TierEntry entry;
};

}  // namespace dte
