#include "cache/eviction_policy.h"

#include "cache/eviction_list.h"

namespace dte {

namespace {

using eviction_internal::kNil;
using eviction_internal::NodePool;
using eviction_internal::PayDebt;
using eviction_internal::Queue;

// One queue of nodes (eviction_list.h), head = newest: the shared part of LRU and SIEVE.
class ListPolicy : public EvictionPolicy {
 protected:
  struct Node {
    CacheKey key = 0;
    uint32_t prev = kNil, next = kNil;  // prev: newer, next: older
    float weight = 1;
    uint64_t stamp = 0;   // LRU: logical time of the last access
    float debt = 0;       // SIEVE: accumulated unvisited passes
    bool visited = false; // SIEVE
    bool live = false;
  };

  uint32_t Allocate(CacheKey key, float weight) {
    uint32_t h = pool_.Allocate();
    Node& n = pool_.nodes()[h];
    n.key = key;
    n.weight = weight > 0 ? weight : 1;
    list_.PushHead(pool_.nodes(), h);
    return h;
  }
  void Release(uint32_t h) {
    list_.Unlink(pool_.nodes(), h);
    pool_.Release(h);
  }
  Node& At(Handle h) { return pool_.At(h); }
  Node& node(uint32_t h) { return pool_.nodes()[h]; }

 public:
  size_t size() const override { return list_.size; }

 protected:
  NodePool<Node> pool_;
  Queue list_;
};

class LruPolicy final : public ListPolicy {
 public:
  Handle Insert(CacheKey key, float weight) override {
    uint32_t h = Allocate(key, weight);
    node(h).stamp = ++clock_;
    return h;
  }
  void Touch(Handle h) override {
    At(h).stamp = ++clock_;
    if (list_.head == h) return;
    list_.Unlink(pool_.nodes(), h);
    list_.PushHead(pool_.nodes(), h);
  }
  void Erase(Handle h) override {
    At(h);
    Release(h);
  }
  std::optional<CacheKey> Evict() override {
    if (list_.tail == kNil) return std::nullopt;
    // Among the least recently used few, the one with the largest age per unit of weight.
    uint32_t best = list_.tail;
    double best_score = -1;
    uint32_t h = list_.tail;
    for (int i = 0; i < kLruWindow && h != kNil; ++i, h = node(h).prev) {
      double score = static_cast<double>(clock_ + 1 - node(h).stamp) / node(h).weight;
      if (score > best_score) {
        best_score = score;
        best = h;
      }
    }
    CacheKey key = node(best).key;
    Release(best);
    return key;
  }

 private:
  uint64_t clock_ = 0;
};

class SievePolicy final : public ListPolicy {
 public:
  Handle Insert(CacheKey key, float weight) override { return Allocate(key, weight); }
  void Touch(Handle h) override { At(h).visited = true; }
  void Erase(Handle h) override {
    At(h);
    if (hand_ == h) hand_ = node(h).prev;
    Release(h);
  }
  std::optional<CacheKey> Evict() override {
    if (list_.tail == kNil) return std::nullopt;
    // Terminates: each visit either unmarks an entry or adds >= 0.5 debt (weights <= 1).
    for (;;) {
      if (hand_ == kNil) hand_ = list_.tail;
      uint32_t h = hand_;
      Node& n = node(h);
      hand_ = n.prev;  // towards newer entries; wraps to the tail when it falls off the head
      if (n.visited) {
        n.visited = false;
        continue;
      }
      if (PayDebt(n.debt, n.weight)) {
        CacheKey key = n.key;
        Release(h);
        return key;
      }
    }
  }

 private:
  uint32_t hand_ = kNil;
};

}  // namespace

std::string_view EvictionPolicyName(EvictionPolicyKind kind) {
  switch (kind) {
    case EvictionPolicyKind::kLru: return "lru";
    case EvictionPolicyKind::kSieve: return "sieve";
    case EvictionPolicyKind::kS3Fifo: return "s3fifo";
    case EvictionPolicyKind::kWTinyLfu: return "wtinylfu";
  }
  return "sieve";
}

std::optional<EvictionPolicyKind> ParseEvictionPolicy(std::string_view name) {
  if (name == "lru") return EvictionPolicyKind::kLru;
  if (name == "sieve") return EvictionPolicyKind::kSieve;
  if (name == "s3fifo") return EvictionPolicyKind::kS3Fifo;
  if (name == "wtinylfu") return EvictionPolicyKind::kWTinyLfu;
  return std::nullopt;
}

std::unique_ptr<EvictionPolicy> EvictionPolicy::Make(EvictionPolicyKind kind) {
  switch (kind) {
    case EvictionPolicyKind::kLru: return std::make_unique<LruPolicy>();
    case EvictionPolicyKind::kSieve: return std::make_unique<SievePolicy>();
    case EvictionPolicyKind::kS3Fifo: return MakeS3FifoPolicy();
    case EvictionPolicyKind::kWTinyLfu: return MakeWTinyLfuPolicy();
  }
  return std::make_unique<SievePolicy>();
}

}  // namespace dte
