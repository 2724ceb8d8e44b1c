#include "cache/eviction_policy.h"

#include "base/check.h"
#include "cache/eviction_list.h"

namespace dte {

namespace {

constexpr uint32_t kNil = UINT32_MAX;

// A doubly linked list over a pool of nodes addressed by index (the handle). Head = newest.
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
    uint32_t h;
    if (!free_.empty()) {
      h = free_.back();
      free_.pop_back();
    } else {
      h = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    nodes_[h] = Node{};
    nodes_[h].key = key;
    nodes_[h].weight = weight > 0 ? weight : 1;
    nodes_[h].live = true;
    ++size_;
    return h;
  }
  void Release(uint32_t h) {
    Unlink(h);
    nodes_[h].live = false;
    free_.push_back(h);
    --size_;
  }
  void PushFront(uint32_t h) {
    nodes_[h].prev = kNil;
    nodes_[h].next = head_;
    if (head_ != kNil) nodes_[head_].prev = h;
    head_ = h;
    if (tail_ == kNil) tail_ = h;
  }
  void Unlink(uint32_t h) {
    Node& n = nodes_[h];
    if (n.prev != kNil) nodes_[n.prev].next = n.next; else head_ = n.next;
    if (n.next != kNil) nodes_[n.next].prev = n.prev; else tail_ = n.prev;
    n.prev = n.next = kNil;
  }
  Node& At(Handle h) {
    DTE_CHECK(h < nodes_.size() && nodes_[h].live, "eviction policy: stale handle");
    return nodes_[h];
  }

 public:
  size_t size() const override { return size_; }

 protected:
  std::vector<Node> nodes_;
  std::vector<uint32_t> free_;
  uint32_t head_ = kNil, tail_ = kNil;
  size_t size_ = 0;
};

class LruPolicy final : public ListPolicy {
 public:
  Handle Insert(CacheKey key, float weight) override {
    uint32_t h = Allocate(key, weight);
    nodes_[h].stamp = ++clock_;
    PushFront(h);
    return h;
  }
  void Touch(Handle h) override {
    At(h).stamp = ++clock_;
    if (head_ == h) return;
    Unlink(h);
    PushFront(h);
  }
  void Erase(Handle h) override {
    At(h);
    Release(h);
  }
  std::optional<CacheKey> Evict() override {
    if (tail_ == kNil) return std::nullopt;
    // Among the least recently used few, the one with the largest age per unit of weight.
    uint32_t best = tail_;
    double best_score = -1;
    uint32_t h = tail_;
    for (int i = 0; i < kLruWindow && h != kNil; ++i, h = nodes_[h].prev) {
      double score = static_cast<double>(clock_ + 1 - nodes_[h].stamp) / nodes_[h].weight;
      if (score > best_score) {
        best_score = score;
        best = h;
      }
    }
    CacheKey key = nodes_[best].key;
    Release(best);
    return key;
  }

 private:
  uint64_t clock_ = 0;
};

class SievePolicy final : public ListPolicy {
 public:
  Handle Insert(CacheKey key, float weight) override {
    uint32_t h = Allocate(key, weight);
    PushFront(h);
    return h;
  }
  void Touch(Handle h) override { At(h).visited = true; }
  void Erase(Handle h) override {
    At(h);
    if (hand_ == h) hand_ = nodes_[h].prev;
    Release(h);
  }
  std::optional<CacheKey> Evict() override {
    if (tail_ == kNil) return std::nullopt;
    // Terminates: each visit either unmarks an entry or adds >= 0.5 debt (weights <= 1).
    for (;;) {
      if (hand_ == kNil) hand_ = tail_;
      Node& n = nodes_[hand_];
      uint32_t h = hand_;
      hand_ = n.prev;  // towards newer entries; wraps to the tail when it falls off the head
      if (n.visited) {
        n.visited = false;
        continue;
      }
      n.debt += 0.5f / n.weight;
      if (n.debt >= 1.0f - 1e-6f) {
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
