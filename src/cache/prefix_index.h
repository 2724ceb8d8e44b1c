#pragma once
// PrefixIndex: (model id, token prefix) -> CacheKey of the checkpoint taken after that prefix, with
// LongestMatch over a new prompt in O(len / block) hash probes.
//
// Tokens are cut into fixed blocks of `block_tokens`. Each full block gets a chained hash
// (xxhash64 of the block, seeded with the previous block's chain hash; the first is seeded with
// the model id), so one chain hash names a whole block-aligned prefix. A node per chain hash
// holds its block (to rule out hash collisions) and the checkpoints that end inside the next
// block ("tails": 0..block-1 extra tokens). A checkpoint's key is a hash of its chain hash and tail.
//
// Thread-safe: every method may be called from any thread (a reader/writer lock inside).

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/checkpoint.h"

namespace dte {

class PrefixIndex {
 public:
  explicit PrefixIndex(int block_tokens = 32);

  struct Match {
    int64_t tokens = 0;  // length of the cached prefix
    CacheKey key = 0;
  };

  // The key a checkpoint of `prefix` gets (a pure function of model id, block size and tokens).
  CacheKey KeyOf(std::string_view model_id, std::span<const int32_t> prefix) const;

  // Records that a checkpoint exists for `prefix`; returns its key. Idempotent.
  CacheKey Insert(std::string_view model_id, std::span<const int32_t> prefix);
  // Forgets a checkpoint (no-op if unknown).
  void Remove(CacheKey key);
  void Clear();

  // The longest recorded prefix of `tokens` (possibly all of them), or nullopt.
  std::optional<Match> LongestMatch(std::string_view model_id, std::span<const int32_t> tokens) const;
  // Every recorded prefix of `tokens`, longest first (the caller falls back to shorter ones when
  // a longer checkpoint has meanwhile left the cache).
  std::vector<Match> Matches(std::string_view model_id, std::span<const int32_t> tokens) const;

  size_t size() const;  // checkpoints recorded
  int block_tokens() const { return block_; }

  // The hashing, for a shared tier that keeps its own index (RedisTier):
  // chain hashes of the root and of every full block of `tokens` (len / block + 1 values), and
  // where a checkpoint of `prefix` sits: the chain hash of its last full block + its tail length.
  struct Location {
    uint64_t chain = 0;
    int32_t tail_tokens = 0;
    CacheKey key = 0;
  };
  std::vector<uint64_t> ChainHashes(std::string_view model_id, std::span<const int32_t> tokens) const;
  Location Locate(std::string_view model_id, std::span<const int32_t> prefix) const;
  // The key of the checkpoint `tail` tokens past the aligned prefix named by `chain`.
  static CacheKey TailKey(uint64_t chain, std::span<const int32_t> tail);

 private:
  struct Tail {
    std::vector<int32_t> tokens;  // 0..block-1 tokens after the node's aligned prefix
    CacheKey key;
  };
  struct Node {
    uint64_t parent = 0;           // chain hash of the previous block (root: none)
    std::vector<int32_t> block;    // this node's block (empty for the root)
    int64_t refs = 0;              // checkpoints at or below this node
    std::vector<Tail> tails;
  };
  struct KeyInfo {
    uint64_t chain;  // node holding the tail
    std::vector<int32_t> tail;
  };

  uint64_t RootHash(std::string_view model_id) const;
  uint64_t ChainHash(uint64_t parent, std::span<const int32_t> block) const;
  void VisitMatches(std::string_view model_id, std::span<const int32_t> tokens,
                    std::vector<Match>* out) const;

  const int block_;
  mutable std::shared_mutex mu_;
  std::unordered_map<uint64_t, Node> nodes_;    // GUARDED_BY(mu_)
  std::unordered_map<CacheKey, KeyInfo> keys_;  // GUARDED_BY(mu_)
};

}  // namespace dte
