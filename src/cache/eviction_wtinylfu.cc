// W-TinyLFU (after Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache Admission
// Policy", ACM ToS 2017), behind EvictionPolicy:
//  * a window LRU takes every new key, so a recent key gets a chance to be hit before it must
//    prove itself;
//  * the rest is a segmented LRU: probation (entries admitted from the window) and protected
//    (entries hit while on probation, at most 80 % of the main part; its overflow goes back to
//    probation);
//  * a count-min sketch (frequency_sketch.h) estimates how often each key was inserted or hit
//    lately, with aging, so old popularity fades.
// When the window overflows, its least recent entry moves to the head of probation as the
// admission candidate. The next Evict makes it duel the main part's victim (probation's least
// recent entry, else protected's): the one with the lower estimated frequency leaves. When no
// candidate is pending (the cache was not full when the entry left the window, or it was hit
// since), Evict takes the main part's least recent entry.
//
// Two choices differ from the paper, both made by replaying the Mooncake trace
// (docs/state_cache.md): the window is 20 % of the entries (paper: 1 %), and a tie admits the
// candidate (paper: the victim stays). A prefix checkpoint is put once and its reuse comes later,
// so most duels are 1 against 1; keeping the older entry on ties starved recency and lost to
// SIEVE on large caches. No window adaptation (hill climbing) and no doorkeeper.
//
// Priority weights act in the duel: each side's estimate is multiplied by its weight, so a
// general entry (0.5) seen once loses to a conversation entry (1.0) seen once, whichever side
// each is on, and a general entry seen twice ties with a conversation entry seen once. Window and
// main order are by recency only.
//
// A hit costs one sketch increment (4 counters, found from the key in the node; no table lookup)
// and a list move.

#include <algorithm>
#include <optional>
#include <vector>

#include "cache/eviction_list.h"
#include "cache/frequency_sketch.h"

namespace dte {
namespace {

using eviction_internal::kNil;
using eviction_internal::NodePool;
using eviction_internal::Queue;

constexpr size_t kWindowPercent = 20;  // chosen by measurement (docs/state_cache.md); the paper: 1
constexpr size_t kProtectedPercent = 80;

class WTinyLfuPolicy final : public EvictionPolicy {
 public:
  Handle Insert(CacheKey key, float weight) override {
    sketch_.Reserve(size() + 1);
    sketch_.Increment(key);
    uint32_t h = pool_.Allocate();
    Node& n = pool_.nodes()[h];
    n.key = key;
    n.weight = weight > 0 ? weight : 1;
    n.segment = Segment::kWindow;
    window_.PushHead(pool_.nodes(), h);
    size_t window_target = std::max<size_t>(1, size() * kWindowPercent / 100);
    if (window_.size > window_target) {
      uint32_t t = window_.tail;
      Move(t, Segment::kProbation);
      candidate_ = t;  // an earlier candidate not judged since was admitted: there was room
    }
    return h;
  }

  void Touch(Handle h) override {
    Node& n = pool_.At(h);
    sketch_.Increment(n.key);
    switch (n.segment) {
      case Segment::kWindow:
        Move(h, Segment::kWindow);
        break;
      case Segment::kProtected:
        Move(h, Segment::kProtected);
        break;
      case Segment::kProbation:
        if (candidate_ == h) candidate_ = kNil;  // hit while on probation: admitted
        Move(h, Segment::kProtected);
        if (protected_.size > (probation_.size + protected_.size) * kProtectedPercent / 100)
          Move(protected_.tail, Segment::kProbation);
        break;
    }
  }

  void Erase(Handle h) override {
    Node& n = pool_.At(h);
    if (candidate_ == h) candidate_ = kNil;
    QueueOf(n.segment).Unlink(pool_.nodes(), h);
    pool_.Release(h);
  }

  std::optional<CacheKey> Evict() override {
    if (size() == 0) return std::nullopt;
    uint32_t victim = MainVictim();
    if (candidate_ != kNil) {
      uint32_t c = candidate_;
      candidate_ = kNil;
      if (victim == kNil || Score(c) < Score(victim)) victim = c;  // not admitted
    }
    if (victim == kNil) victim = window_.tail;
    auto& nodes = pool_.nodes();
    CacheKey key = nodes[victim].key;
    QueueOf(nodes[victim].segment).Unlink(nodes, victim);
    pool_.Release(victim);
    return key;
  }

  size_t size() const override { return window_.size + probation_.size + protected_.size; }

 private:
  enum class Segment : uint8_t { kWindow, kProbation, kProtected };
  struct Node {
    CacheKey key = 0;
    uint32_t prev = kNil, next = kNil;
    float weight = 1;
    Segment segment = Segment::kWindow;
    bool live = false;
  };

  Queue& QueueOf(Segment s) {
    return s == Segment::kWindow ? window_ : s == Segment::kProbation ? probation_ : protected_;
  }
  // Moves `h` to the head (most recent end) of segment `to`.
  void Move(uint32_t h, Segment to) {
    auto& nodes = pool_.nodes();
    QueueOf(nodes[h].segment).Unlink(nodes, h);
    nodes[h].segment = to;
    QueueOf(to).PushHead(nodes, h);
  }
  // The least recent entry of the main part other than the pending candidate, or kNil.
  uint32_t MainVictim() {
    uint32_t t = probation_.tail;
    if (t != kNil && t != candidate_) return t;
    if (t != kNil && pool_.nodes()[t].prev != kNil) return pool_.nodes()[t].prev;
    return protected_.tail;
  }
  double Score(uint32_t h) {
    const Node& n = pool_.nodes()[h];
    return sketch_.Estimate(n.key) * static_cast<double>(n.weight);
  }

  NodePool<Node> pool_;
  Queue window_, probation_, protected_;
  FrequencySketch sketch_;
  uint32_t candidate_ = kNil;  // in probation, awaiting its duel
};

}  // namespace

std::unique_ptr<EvictionPolicy> MakeWTinyLfuPolicy() { return std::make_unique<WTinyLfuPolicy>(); }

}  // namespace dte
