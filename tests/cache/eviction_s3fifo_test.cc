// S3-FIFO (eviction_s3fifo.cc): eviction order on hand-made sequences, where it differs from LRU,
// the ghost queue, hit counters in main, Erase, and priority weights.

#include <gtest/gtest.h>

#include <map>

#include "cache/eviction_policy.h"
#include "eviction_sim.h"

namespace dte {
namespace {

using Handles = std::map<CacheKey, EvictionPolicy::Handle>;

std::vector<CacheKey> Drain(EvictionPolicy& p) {
  std::vector<CacheKey> out;
  while (auto k = p.Evict()) out.push_back(*k);
  return out;
}

std::unique_ptr<EvictionPolicy> Make() { return EvictionPolicy::Make(EvictionPolicyKind::kS3Fifo); }

TEST(S3FifoTest, NameRoundTrips) {
  EXPECT_EQ(EvictionPolicyName(EvictionPolicyKind::kS3Fifo), "s3fifo");
  EXPECT_EQ(ParseEvictionPolicy("s3fifo"), EvictionPolicyKind::kS3Fifo);
}

TEST(S3FifoTest, HitKeysOutliveLaterOneTimeKeys) {
  // 1 and 2 are hit before 3..6 arrive. LRU would evict 1 first (its hit is the oldest use); in
  // S3-FIFO the hit moves 1 and 2 from the small queue to main, and the one-time keys leave first.
  for (auto kind : {EvictionPolicyKind::kS3Fifo, EvictionPolicyKind::kLru}) {
    auto p = EvictionPolicy::Make(kind);
    Handles h;
    h[1] = p->Insert(1, 0.5f);
    h[2] = p->Insert(2, 0.5f);
    p->Touch(h[1]);
    p->Touch(h[2]);
    for (CacheKey k = 3; k <= 6; ++k) p->Insert(k, 0.5f);
    if (kind == EvictionPolicyKind::kS3Fifo) {
      EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{3, 4, 5, 6, 1, 2}));
    } else {
      EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{1, 2, 3, 4, 5, 6}));
    }
  }
}

TEST(S3FifoTest, GhostSendsAReturningKeyToMain) {
  auto p = Make();
  for (CacheKey k = 1; k <= 3; ++k) p->Insert(k, 0.5f);
  EXPECT_EQ(*p->Evict(), 1u);  // dropped from small without a hit: remembered by the ghost
  p->Insert(1, 0.5f);          // back while remembered: straight to main
  p->Insert(4, 0.5f);
  p->Insert(5, 0.5f);
  // LRU would give 2, 3, 1, 4, 5: here the small queue (2, 3, 4, 5) drains before main (1).
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{2, 3, 4, 5, 1}));
}

TEST(S3FifoTest, MainSpendsHitsForLaps) {
  auto p = Make();
  Handles h;
  h[1] = p->Insert(1, 0.5f);
  h[2] = p->Insert(2, 0.5f);
  p->Touch(h[1]);
  p->Touch(h[2]);
  p->Insert(3, 0.5f);
  EXPECT_EQ(*p->Evict(), 3u);  // 1 and 2 moved to main (counters reset), 3 had no hit
  // In main, 1 (the older) has 3 hits and 2 has 1: 2 runs out first although 1 is older and
  // was not used more recently than 2 (LRU and plain FIFO would both evict 1 first).
  for (int i = 0; i < 3; ++i) p->Touch(h[1]);
  p->Touch(h[2]);
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{2, 1}));
}

TEST(S3FifoTest, CounterSaturatesAtThree) {
  auto p = Make();
  Handles h;
  h[1] = p->Insert(1, 0.5f);
  h[2] = p->Insert(2, 0.5f);
  p->Touch(h[1]);
  p->Touch(h[2]);
  p->Insert(3, 0.5f);
  EXPECT_EQ(*p->Evict(), 3u);
  for (int i = 0; i < 10; ++i) p->Touch(h[1]);  // counts as 3
  for (int i = 0; i < 3; ++i) p->Touch(h[2]);
  // Both have 3 hits: 1 (older in main) spends its last hit first and leaves first.
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{1, 2}));
}

TEST(S3FifoTest, EraseAndSize) {
  auto p = Make();
  Handles h;
  for (CacheKey k = 1; k <= 4; ++k) h[k] = p->Insert(k, 0.5f);
  EXPECT_EQ(p->size(), 4u);
  p->Touch(h[1]);
  EXPECT_EQ(*p->Evict(), 2u);  // 1 goes to main on the way
  EXPECT_EQ(p->size(), 3u);
  p->Erase(h[1]);  // from main
  p->Erase(h[3]);  // from small
  EXPECT_EQ(p->size(), 1u);
  h[5] = p->Insert(5, 0.5f);  // may reuse a handle
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{4, 5}));
  EXPECT_EQ(p->size(), 0u);
  EXPECT_FALSE(p->Evict().has_value());
}

TEST(S3FifoTest, WeightGivesAnExtraLapInSmall) {
  auto p = Make();
  p->Insert(1, PriorityWeight(Priority::kConversation));
  p->Insert(2, PriorityWeight(Priority::kGeneral));
  p->Insert(3, PriorityWeight(Priority::kGeneral));
  // 1 is the oldest but pays half its debt and goes round again; general entries leave at once.
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{2, 3, 1}));
  // All general: plain FIFO order.
  auto q = Make();
  for (CacheKey k = 1; k <= 3; ++k) q->Insert(k, PriorityWeight(Priority::kGeneral));
  EXPECT_EQ(Drain(*q), (std::vector<CacheKey>{1, 2, 3}));
}

TEST(S3FifoTest, WeightGivesAnExtraLapInMain) {
  for (float w1 : {PriorityWeight(Priority::kReasoning), PriorityWeight(Priority::kGeneral)}) {
    auto p = Make();
    Handles h;
    h[1] = p->Insert(1, w1);
    h[2] = p->Insert(2, 0.5f);
    p->Touch(h[1]);
    p->Touch(h[2]);
    p->Insert(3, 0.5f);
    EXPECT_EQ(*p->Evict(), 3u);
    // Main holds 1 (older) and 2, no hits left: a heavier 1 survives one lap.
    if (w1 > 0.5f) {
      EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{2, 1}));
    } else {
      EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{1, 2}));
    }
  }
}

TEST(S3FifoTest, DebtRestartsWhenAHitPromotesToMain) {
  auto p = Make();
  Handles h;
  h[1] = p->Insert(1, PriorityWeight(Priority::kConversation));
  p->Insert(2, 0.5f);
  EXPECT_EQ(*p->Evict(), 2u);  // 1 used its extra lap in small
  p->Touch(h[1]);
  h[3] = p->Insert(3, 0.5f);
  p->Touch(h[3]);
  p->Insert(4, 0.5f);
  EXPECT_EQ(*p->Evict(), 4u);  // 1 and 3 were promoted to main on the way
  // Main: 1 (older), 3; no hits left. 1 gets a fresh extra lap in main, 3 does not.
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{3, 1}));
}

TEST(S3FifoTest, ScanDoesNotFlushHotKeys) {
  // 5 hot keys in a 20-entry cache, 30 one-time keys between their uses: LRU loses them every
  // time, S3-FIFO keeps them in main while the scan passes through the small queue.
  EXPECT_GE(HotHitRatioUnderScan(EvictionPolicyKind::kS3Fifo, 20, 5, 4, 3000, 30), 0.95);
  EXPECT_LE(HotHitRatioUnderScan(EvictionPolicyKind::kLru, 20, 5, 4, 3000, 30), 0.05);
}

TEST(S3FifoTest, SimulatedCacheStaysConsistent) {
  // Random mix of accesses and erases against the PolicySim: the policy never returns a key that
  // is not held, and sizes agree.
  PolicySim sim(EvictionPolicyKind::kS3Fifo, 50);
  uint64_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    CacheKey key = (x >> 33) % 200;
    if ((x >> 10) % 8 == 0) {
      sim.Erase(key);
    } else {
      sim.Access(key, (x >> 20) % 2 ? 1.0f : 0.5f);
    }
    EXPECT_LE(sim.size(), 50u);
    ASSERT_EQ(sim.policy().size(), sim.size());
  }
}

}  // namespace
}  // namespace dte
