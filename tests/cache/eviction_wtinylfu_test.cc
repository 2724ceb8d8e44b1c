// W-TinyLFU (eviction_wtinylfu.cc): the admission duel on hand-made sequences, where it differs
// from LRU, scan resistance, aging of the frequency sketch, Erase, and priority weights.

#include <gtest/gtest.h>

#include <map>

#include "cache/eviction_policy.h"
#include "cache/frequency_sketch.h"
#include "eviction_sim.h"

namespace dte {
namespace {

using Handles = std::map<CacheKey, EvictionPolicy::Handle>;

std::unique_ptr<EvictionPolicy> Make() {
  return EvictionPolicy::Make(EvictionPolicyKind::kWTinyLfu);
}

TEST(WTinyLfuTest, NameRoundTrips) {
  EXPECT_EQ(EvictionPolicyName(EvictionPolicyKind::kWTinyLfu), "wtinylfu");
  EXPECT_EQ(ParseEvictionPolicy("wtinylfu"), EvictionPolicyKind::kWTinyLfu);
  EXPECT_FALSE(ParseEvictionPolicy("lfu").has_value());
}

TEST(WTinyLfuTest, AdmitsOnlyKeysAtLeastAsFrequent) {
  // Below 10 entries the window holds one entry: each insert pushes the previous newcomer out of
  // the window into probation, where it must match the main part's victim at the next Evict.
  auto p = Make();
  Handles h;
  h[1] = p->Insert(1, 0.5f);
  p->Touch(h[1]);      // hit in the window: seen twice
  p->Insert(2, 0.5f);  // 1 leaves the window (admitted: nothing is evicted before the next one)
  p->Insert(3, 0.5f);  // 2 leaves the window as the candidate
  // Candidate 2 (seen once) vs victim 1 (seen twice): 2 leaves. LRU would evict 1, the least
  // recently used.
  EXPECT_EQ(*p->Evict(), 2u);
  p->Insert(4, 0.5f);  // candidate 3 (once) loses to 1 again
  EXPECT_EQ(*p->Evict(), 3u);
  p->Insert(3, 0.5f);  // 3 is seen twice now; candidate 4 (once) loses
  EXPECT_EQ(*p->Evict(), 4u);
  p->Insert(5, 0.5f);  // candidate 3 (twice) ties with 1 (twice): the newcomer is admitted
  EXPECT_EQ(*p->Evict(), 1u);
  EXPECT_EQ(p->size(), 2u);  // 3 and 5
}

TEST(WTinyLfuTest, WeightScalesTheEstimateInTheDuel) {
  // Candidate 2 (general, seen once) vs victim 1 (seen once) of weight w1: a heavier victim
  // stays, an equal one loses the tie.
  for (float w1 : {PriorityWeight(Priority::kConversation), PriorityWeight(Priority::kGeneral)}) {
    auto p = Make();
    p->Insert(1, w1);
    p->Insert(2, 0.5f);
    p->Insert(3, 0.5f);
    EXPECT_EQ(*p->Evict(), w1 > 0.5f ? 2u : 1u) << w1;
  }
  // A heavier candidate beats a general victim seen once.
  {
    auto p = Make();
    p->Insert(1, 0.5f);
    p->Insert(2, PriorityWeight(Priority::kReasoning));
    p->Insert(3, 0.5f);
    EXPECT_EQ(*p->Evict(), 1u);
  }
  // A weight multiplies, it does not override: a general victim seen three times (1.5) keeps its
  // place against a conversation candidate seen once (1.0).
  auto p = Make();
  Handles h;
  h[1] = p->Insert(1, 0.5f);
  p->Touch(h[1]);  // in the window
  p->Touch(h[1]);
  p->Insert(2, 1.0f);
  p->Insert(3, 0.5f);
  EXPECT_EQ(*p->Evict(), 2u);
}

TEST(WTinyLfuTest, EraseAndSize) {
  auto p = Make();
  Handles h;
  for (CacheKey k = 1; k <= 3; ++k) h[k] = p->Insert(k, 0.5f);
  EXPECT_EQ(p->size(), 3u);
  p->Erase(h[2]);  // the pending candidate
  EXPECT_EQ(p->size(), 2u);
  EXPECT_EQ(*p->Evict(), 1u);  // no duel pending: probation's least recent
  EXPECT_EQ(*p->Evict(), 3u);  // main empty: the window
  EXPECT_FALSE(p->Evict().has_value());
  EXPECT_EQ(p->size(), 0u);
}

TEST(WTinyLfuTest, ScanDoesNotFlushHotKeys) {
  EXPECT_GE(HotHitRatioUnderScan(EvictionPolicyKind::kWTinyLfu, 20, 5, 4, 3000, 30), 0.95);
  EXPECT_LE(HotHitRatioUnderScan(EvictionPolicyKind::kLru, 20, 5, 4, 3000, 30), 0.05);
}

TEST(WTinyLfuTest, ANewHotSetTakesOver) {
  // Keys 1..20 fill the cache and are used 50 times each (their counts saturate), then only keys
  // 101..105 are used: they must win duels against the old keys (aging lowers the old counts,
  // the new counts grow) and then stay.
  PolicySim sim(EvictionPolicyKind::kWTinyLfu, 20);
  for (int r = 0; r < 50; ++r)
    for (CacheKey k = 1; k <= 20; ++k) sim.Access(k);
  int hits = 0, uses = 0;
  for (int r = 0; r < 200; ++r) {
    for (CacheKey k = 101; k <= 105; ++k) {
      bool hit = sim.Access(k);
      if (r >= 100) {
        ++uses;
        hits += hit ? 1 : 0;
      }
    }
  }
  EXPECT_EQ(hits, uses);
  for (CacheKey k = 101; k <= 105; ++k) EXPECT_TRUE(sim.Holds(k)) << k;
}

TEST(WTinyLfuTest, SimulatedCacheStaysConsistent) {
  for (size_t capacity : {3, 50, 400}) {  // 400: a window of 4 entries
    PolicySim sim(EvictionPolicyKind::kWTinyLfu, capacity);
    uint64_t x = 777;
    for (int i = 0; i < 20000; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      CacheKey key = (x >> 33) % (4 * capacity);
      if ((x >> 10) % 8 == 0) {
        sim.Erase(key);
      } else {
        sim.Access(key, (x >> 20) % 2 ? 1.0f : 0.5f);
      }
      EXPECT_LE(sim.size(), capacity);
      ASSERT_EQ(sim.policy().size(), sim.size());
    }
  }
}

TEST(FrequencySketchTest, CountsSaturatesAndAges) {
  FrequencySketch s;
  s.Reserve(100);
  EXPECT_GE(s.width(), 200u);
  EXPECT_EQ(s.Estimate(42), 0);
  for (int i = 0; i < 5; ++i) s.Increment(42);
  EXPECT_EQ(s.Estimate(42), 5);  // count-min never undercounts; a collision in all 4 rows is rare
  for (int i = 0; i < 20; ++i) s.Increment(7);
  EXPECT_EQ(s.Estimate(7), FrequencySketch::kMaxCount);
  // Another key until the aging period ends: every counter is halved once.
  for (size_t done = 25; done < s.aging_period(); ++done) s.Increment(99);
  EXPECT_EQ(s.Estimate(7), FrequencySketch::kMaxCount / 2);
  EXPECT_EQ(s.Estimate(99), FrequencySketch::kMaxCount / 2);
  EXPECT_EQ(s.Estimate(42), 2);  // 5 / 2
}

TEST(FrequencySketchTest, GrowingKeepsEstimates) {
  FrequencySketch s;
  for (uint64_t k = 1; k <= 50; ++k)
    for (uint64_t i = 0; i < k % 7; ++i) s.Increment(k);
  std::vector<int> before;
  for (uint64_t k = 1; k <= 50; ++k) before.push_back(s.Estimate(k));
  s.Reserve(5000);  // several doublings
  EXPECT_GE(s.width(), 10000u);
  for (uint64_t k = 1; k <= 50; ++k) EXPECT_EQ(s.Estimate(k), before[k - 1]) << k;
}

}  // namespace
}  // namespace dte
