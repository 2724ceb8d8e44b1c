// S3-FIFO (after Yang et al., "FIFO queues are all you need for cache eviction", SOSP'23), behind
// EvictionPolicy. Three FIFO queues:
//  * small (about 10 % of the entries): every new key enters here, unless the ghost queue
//    remembers it. Most keys are used once; they leave from here quickly without disturbing the
//    main queue (this is what makes a one-time scan harmless).
//  * main: keys that were hit while in small, or that come back while remembered by the ghost.
//    Each entry has a 2-bit hit counter; at the tail an entry with hits is put back at the head
//    with one hit less, one without hits leaves.
//  * ghost: keys (no values) recently dropped from small, as many as there are live entries.
//    A key that is inserted again while remembered goes straight to main.
// A hit only increments the counter of the entry (no queue move, no lookup). Insert costs one
// hash lookup (the ghost). Eviction is amortized O(1): each step either moves an entry one queue
// further or spends one of its hits.
//
// Priority weights: as in SIEVE here, an entry chosen for eviction (at the tail of small or main)
// with no hits left pays 0.5 / weight of debt and only leaves when its debt reaches 1; otherwise
// it goes back to the head of the same queue for another lap. General entries (0.5) therefore
// behave exactly as in S3-FIFO; the heavier classes (0.7 .. 1.0) get one extra lap in small
// before they are dropped to the ghost, and one extra lap in main (the debt restarts when a hit
// promotes the entry to main).

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>

#include "cache/eviction_list.h"
#include "cache/flat_map.h"

namespace dte {
namespace {

using eviction_internal::kNil;
using eviction_internal::NodePool;
using eviction_internal::PayDebt;
using eviction_internal::Queue;

constexpr uint8_t kMaxHits = 3;  // 2-bit counter
constexpr size_t kSmallPercent = 10;

class S3FifoPolicy final : public EvictionPolicy {
 public:
  Handle Insert(CacheKey key, float weight) override {
    uint32_t h = pool_.Allocate();
    Node& n = pool_.nodes()[h];
    n.key = key;
    n.weight = weight > 0 ? weight : 1;
    if (ghost_.Find(key) != nullptr) {
      // Dropped recently without a hit but wanted again: it has proved itself.
      ghost_.Erase(key);
      n.in_main = true;
      main_.PushHead(pool_.nodes(), h);
    } else {
      small_.PushHead(pool_.nodes(), h);
    }
    return h;
  }

  void Touch(Handle h) override {
    Node& n = pool_.At(h);
    if (n.hits < kMaxHits) ++n.hits;
  }

  void Erase(Handle h) override {
    Node& n = pool_.At(h);
    (n.in_main ? main_ : small_).Unlink(pool_.nodes(), h);
    pool_.Release(h);
  }

  std::optional<CacheKey> Evict() override {
    for (;;) {
      if (small_.empty() && main_.empty()) return std::nullopt;
      size_t small_target = std::max<size_t>(1, size() * kSmallPercent / 100);
      bool from_small = !small_.empty() && (small_.size >= small_target || main_.empty());
      if (from_small) {
        if (auto key = StepSmall()) return key;
      } else {
        if (auto key = StepMain()) return key;
      }
    }
  }

  size_t size() const override { return small_.size + main_.size; }

 private:
  struct Node {
    CacheKey key = 0;
    uint32_t prev = kNil, next = kNil;
    float weight = 1;
    float debt = 0;
    uint8_t hits = 0;
    bool in_main = false;
    bool live = false;
  };

  // Handles the tail of small: promotes it, gives it another lap, or drops it to the ghost.
  std::optional<CacheKey> StepSmall() {
    auto& nodes = pool_.nodes();
    uint32_t h = small_.tail;
    Node& n = nodes[h];
    small_.Unlink(nodes, h);
    if (n.hits > 0) {
      n.hits = 0;  // it must earn its keep in main again
      n.debt = 0;  // and gets its own extra lap there
      n.in_main = true;
      main_.PushHead(nodes, h);
      return std::nullopt;
    }
    std::optional<CacheKey> key = LapOrLeave(small_, h);
    if (key) Remember(*key);
    return key;
  }

  // Handles the tail of main: spends one hit for another lap, or evicts it.
  std::optional<CacheKey> StepMain() {
    auto& nodes = pool_.nodes();
    uint32_t h = main_.tail;
    Node& n = nodes[h];
    main_.Unlink(nodes, h);
    if (n.hits > 0) {
      --n.hits;
      main_.PushHead(nodes, h);
      return std::nullopt;
    }
    return LapOrLeave(main_, h);
  }

  // An unlinked tail entry with no hits to spend: pays weight debt for another lap at the head
  // of q, or leaves (returns its key).
  std::optional<CacheKey> LapOrLeave(Queue& q, uint32_t h) {
    Node& n = pool_.nodes()[h];
    if (!PayDebt(n.debt, n.weight)) {
      q.PushHead(pool_.nodes(), h);
      return std::nullopt;
    }
    CacheKey key = n.key;
    pool_.Release(h);
    return key;
  }

  // Adds `key` to the ghost queue, forgetting the oldest ghosts beyond the live entry count.
  void Remember(CacheKey key) {
    uint64_t stamp = ++ghost_clock_;
    if (uint64_t* old = ghost_.Find(key))
      *old = stamp;
    else
      ghost_.Insert(key, stamp);
    ghost_order_.push_back({key, stamp});
    // At most `limit` remembered keys; the order queue also holds stale stamps of keys that came
    // back, so it may be up to twice as long.
    size_t limit = std::max<size_t>(1, size());
    while (ghost_.size() > limit || ghost_order_.size() > 2 * limit) {
      auto [old_key, old_stamp] = ghost_order_.front();
      ghost_order_.pop_front();
      uint64_t* s = ghost_.Find(old_key);
      if (s != nullptr && *s == old_stamp) ghost_.Erase(old_key);  // else remembered again later
    }
  }

  NodePool<Node> pool_;
  Queue small_, main_;
  FlatMap<uint64_t> ghost_;  // key -> stamp of its newest ghost_order_ entry
  std::deque<std::pair<CacheKey, uint64_t>> ghost_order_;
  uint64_t ghost_clock_ = 0;
};

}  // namespace

std::unique_ptr<EvictionPolicy> MakeS3FifoPolicy() { return std::make_unique<S3FifoPolicy>(); }

}  // namespace dte
