#pragma once
// Building blocks shared by the eviction policies (LRU, SIEVE, S3-FIFO, W-TinyLFU): a pool of
// nodes addressed by index (the policy's handle, reused after release) and doubly linked queues
// threaded through that pool, so one node can move between queues in O(1) without allocation.
// Also the factories of those policies, which EvictionPolicy::Make calls.
//
// Not thread-safe: owned by one policy, used under its shard's lock.

#include <cstdint>
#include <memory>
#include <vector>

#include "base/check.h"
#include "cache/eviction_policy.h"

namespace dte {

std::unique_ptr<EvictionPolicy> MakeS3FifoPolicy();
std::unique_ptr<EvictionPolicy> MakeWTinyLfuPolicy();

namespace eviction_internal {

inline constexpr uint32_t kNil = UINT32_MAX;

// One queue: head = newest, tail = oldest. Node must have `uint32_t prev, next` (prev: newer).
struct Queue {
  uint32_t head = kNil, tail = kNil;
  size_t size = 0;

  template <class Node>
  void PushHead(std::vector<Node>& nodes, uint32_t h) {
    nodes[h].prev = kNil;
    nodes[h].next = head;
    if (head != kNil) nodes[head].prev = h;
    head = h;
    if (tail == kNil) tail = h;
    ++size;
  }
  template <class Node>
  void Unlink(std::vector<Node>& nodes, uint32_t h) {
    Node& n = nodes[h];
    if (n.prev != kNil)
      nodes[n.prev].next = n.next;
    else
      head = n.next;
    if (n.next != kNil)
      nodes[n.next].prev = n.prev;
    else
      tail = n.prev;
    n.prev = n.next = kNil;
    --size;
  }
  bool empty() const { return size == 0; }
};

// Node storage with a free list. Node must be default-constructible and have `bool live`.
template <class Node>
class NodePool {
 public:
  uint32_t Allocate() {
    uint32_t h;
    if (!free_.empty()) {
      h = free_.back();
      free_.pop_back();
    } else {
      h = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    nodes_[h] = Node{};
    nodes_[h].live = true;
    return h;
  }
  void Release(uint32_t h) {
    nodes_[h].live = false;
    free_.push_back(h);
  }
  Node& At(uint32_t h) {
    DTE_CHECK(h < nodes_.size() && nodes_[h].live, "eviction policy: stale handle");
    return nodes_[h];
  }
  std::vector<Node>& nodes() { return nodes_; }

 private:
  std::vector<Node> nodes_;
  std::vector<uint32_t> free_;
};

// Weight debt, as in SIEVE's weighting (eviction_policy.h): an entry chosen while it has no
// hits to its credit pays 0.5 / weight and leaves when its debt reaches 1, so a general entry
// (0.5) leaves at once and the heavier classes get one more lap. Returns whether it leaves now.
inline bool PayDebt(float& debt, float weight) {
  debt += 0.5f / weight;
  return debt >= 1.0f - 1e-6f;
}

}  // namespace eviction_internal
}  // namespace dte
