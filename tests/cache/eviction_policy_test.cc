// Eviction order per policy, and how priority weights change it.

#include "cache/eviction_policy.h"

#include <gtest/gtest.h>

#include <map>

namespace dte {
namespace {

std::vector<CacheKey> Drain(EvictionPolicy& p) {
  std::vector<CacheKey> out;
  while (auto k = p.Evict()) out.push_back(*k);
  return out;
}

TEST(EvictionPolicyTest, LruEvictsLeastRecentlyUsed) {
  auto p = EvictionPolicy::Make(EvictionPolicyKind::kLru);
  std::map<CacheKey, EvictionPolicy::Handle> h;
  for (CacheKey k = 1; k <= 5; ++k) h[k] = p->Insert(k, 0.5f);
  p->Touch(h[2]);
  p->Touch(h[1]);
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{3, 4, 5, 2, 1}));
}

TEST(EvictionPolicyTest, LruEraseRemoves) {
  auto p = EvictionPolicy::Make(EvictionPolicyKind::kLru);
  auto a = p->Insert(1, 0.5f);
  p->Insert(2, 0.5f);
  p->Erase(a);
  EXPECT_EQ(p->size(), 1u);
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{2}));
}

TEST(EvictionPolicyTest, SieveSparesVisitedAndKeepsNewOnesBehindTheHand) {
  // SIEVE: inserts 1..5; 1 and 3 are hit. The hand starts at the oldest (1): spares 1 (unmarks),
  // evicts 2; next spares 3 (unmarks) and evicts 4.
  auto p = EvictionPolicy::Make(EvictionPolicyKind::kSieve);
  std::map<CacheKey, EvictionPolicy::Handle> h;
  for (CacheKey k = 1; k <= 5; ++k) h[k] = p->Insert(k, 0.5f);
  p->Touch(h[1]);
  p->Touch(h[3]);
  EXPECT_EQ(*p->Evict(), 2u);
  EXPECT_EQ(*p->Evict(), 4u);
  // A new entry goes to the head; the hand continues from where it stopped (5), then reaches 6
  // before it wraps to the tail (unlike LRU, a hit does not move an entry).
  h[6] = p->Insert(6, 0.5f);
  EXPECT_EQ(*p->Evict(), 5u);
  EXPECT_EQ(*p->Evict(), 6u);
  // Wrapped: 1 and 3 were unmarked on the first pass.
  EXPECT_EQ(*p->Evict(), 1u);
  EXPECT_EQ(*p->Evict(), 3u);
  EXPECT_FALSE(p->Evict().has_value());
}

TEST(EvictionPolicyTest, LruWeightsKeepConversationsLonger) {
  auto p = EvictionPolicy::Make(EvictionPolicyKind::kLru);
  p->Insert(1, PriorityWeight(Priority::kConversation));  // oldest, but weight 1.0
  p->Insert(2, PriorityWeight(Priority::kGeneral));
  p->Insert(3, PriorityWeight(Priority::kGeneral));
  // Ages 3, 2, 1 -> scores 3.0, 4.0, 2.0: the general entry 2 goes first, then 1 (3.0 vs 2.0).
  EXPECT_EQ(Drain(*p), (std::vector<CacheKey>{2, 1, 3}));
}

TEST(EvictionPolicyTest, SieveWeightsGiveAnExtraPass) {
  auto p = EvictionPolicy::Make(EvictionPolicyKind::kSieve);
  p->Insert(1, PriorityWeight(Priority::kConversation));
  p->Insert(2, PriorityWeight(Priority::kReasoning));
  p->Insert(3, PriorityWeight(Priority::kGeneral));
  // First pass: 1 and 2 pay half their debt and stay; 3 (general) leaves at once.
  EXPECT_EQ(*p->Evict(), 3u);
  EXPECT_EQ(*p->Evict(), 1u);
  EXPECT_EQ(*p->Evict(), 2u);
}

TEST(EvictionPolicyTest, PriorityNamesRoundTrip) {
  for (int i = 0; i < kPriorityCount; ++i) {
    auto p = static_cast<Priority>(i);
    EXPECT_EQ(ParsePriority(PriorityName(p)), p);
  }
  EXPECT_EQ(PriorityWeight(Priority::kConversation), 1.0f);
  EXPECT_EQ(PriorityWeight(Priority::kMemoryRetrieval), 0.9f);
  EXPECT_EQ(PriorityWeight(Priority::kReasoning), 0.8f);
  EXPECT_EQ(PriorityWeight(Priority::kGrammar), 0.7f);
  EXPECT_EQ(PriorityWeight(Priority::kGeneral), 0.5f);
}

}  // namespace
}  // namespace dte
