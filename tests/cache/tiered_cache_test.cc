// TieredCache: lookup through the tiers, promotion moves (one copy), eviction cascades L1 -> L2 ->
// L3, the admission filter, restart with the prefix index rebuilt, stats, and a concurrent stress
// test (run under ThreadSanitizer as well).

#include "cache/tiered_cache.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "cache/cache_test_util.h"

namespace dte {
namespace {

using testing::MakeCheckpoint;
using testing::TempDir;

std::vector<int32_t> Prompt(int n, int salt = 0) {
  std::vector<int32_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = (i * 7 + salt) % 50;
  return p;
}

TieredCacheOptions SmallOptions(size_t l1_entries, size_t l2_bytes, const std::string& dir = "") {
  TieredCacheOptions o;
  o.block_tokens = 16;
  o.l1.capacity_bytes = MakeCheckpoint(0).bytes() * l1_entries + 200;  // prefixes add a little
  o.l1.shards = 1;
  o.l1.policy = EvictionPolicyKind::kLru;
  o.l2.capacity_bytes = l2_bytes;
  o.l2.shards = 1;
  o.l2.policy = EvictionPolicyKind::kLru;
  if (!dir.empty()) {
    o.l3 = DiskTierOptions{};
    o.l3->dir = dir;
    o.l3->capacity_bytes = 1 << 20;
  }
  return o;
}

TEST(TieredCacheTest, PrefixLookupFindsLongestAndResumesAfterIt) {
  auto cache = TieredCache::Open(SmallOptions(10, 1 << 20));
  ASSERT_TRUE(cache.ok());
  auto& c = **cache;
  auto prompt = Prompt(100);
  c.PutPrefix("m", std::span(prompt).first(40), MakeCheckpoint(40));
  c.PutPrefix("m", std::span(prompt).first(70), MakeCheckpoint(70));
  auto hit = c.LookupPrefix("m", prompt);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->tokens, 70);
  EXPECT_EQ(hit->checkpoint->state, MakeCheckpoint(70).state);
  EXPECT_EQ(hit->checkpoint->tokens, 70);
  EXPECT_FALSE(c.LookupPrefix("m", Prompt(100, 1)).has_value());
  EXPECT_FALSE(c.LookupPrefix("other", prompt).has_value());
  // Lost from the tiers (erased behind the index's back): falls back to the shorter one.
  c.Erase(hit->key);
  EXPECT_EQ(c.LookupPrefix("m", prompt)->tokens, 40);
}

TEST(TieredCacheTest, EvictionCascadesAndHitsPromoteWithoutCopies) {
  TempDir dir;
  auto o = SmallOptions(2, 3000, dir.path);  // L1: 2 entries; L2: a few compressed ones
  o.l3_admit_all = true;
  auto cache = TieredCache::Open(o);
  ASSERT_TRUE(cache.ok());
  auto& c = **cache;
  for (uint32_t k = 1; k <= 12; ++k)
    c.Put(k, std::make_shared<const Checkpoint>(MakeCheckpoint(k)), Priority::kGeneral);
  auto s = c.Stats();
  ASSERT_EQ(s.tiers.size(), 3u);
  EXPECT_EQ(s.tiers[0].entries, 2);
  EXPECT_GT(s.tiers[1].entries, 0);
  EXPECT_GT(s.tiers[2].entries, 0);
  EXPECT_EQ(s.tiers[0].entries + s.tiers[1].entries + s.tiers[2].entries, 12);
  EXPECT_GT(s.tiers[0].evictions, 0);
  EXPECT_GT(s.tiers[1].evictions, 0);
  // Key 1 is the oldest: on disk. A Get brings it to L1 and leaves no copy below.
  auto got = c.Get(1);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, MakeCheckpoint(1));
  s = c.Stats();
  EXPECT_EQ(s.tiers[2].promotions, 1);
  EXPECT_EQ(s.tiers[0].entries + s.tiers[1].entries + s.tiers[2].entries, 12);
  EXPECT_EQ(c.Get(1), got);  // now an L1 hit: the same object
  for (uint32_t k = 1; k <= 12; ++k) {
    auto cp = c.Get(k);
    ASSERT_NE(cp, nullptr) << k;
    EXPECT_EQ(*cp, MakeCheckpoint(k));
  }
  s = c.Stats();
  EXPECT_EQ(s.tiers[0].entries + s.tiers[1].entries + s.tiers[2].entries, 12);
  EXPECT_GT(s.tiers[1].compression_ratio(), 1.0);
  EXPECT_GT(s.tiers[2].get_p50_us, 0);  // L1 samples 1 get in 16 per thread
}

TEST(TieredCacheTest, PutReplacesLowerCopies) {
  auto cache = TieredCache::Open(SmallOptions(1, 1 << 20));
  auto& c = **cache;
  c.Put(1, std::make_shared<const Checkpoint>(MakeCheckpoint(1)), Priority::kConversation);
  c.Put(2, std::make_shared<const Checkpoint>(MakeCheckpoint(2)), Priority::kGeneral);  // 1 -> L2
  EXPECT_EQ(c.Stats().tiers[1].entries, 1);
  c.Put(1, std::make_shared<const Checkpoint>(MakeCheckpoint(100)), Priority::kConversation);
  auto s = c.Stats();
  EXPECT_EQ(s.tiers[0].entries + s.tiers[1].entries, 2);
  EXPECT_EQ(c.Get(1)->state, MakeCheckpoint(100).state);
}

TEST(TieredCacheTest, PriorityDecidesWhoLeavesL1) {
  auto o = SmallOptions(2, 1 << 20);
  auto cache = TieredCache::Open(o);
  auto& c = **cache;
  c.Put(1, std::make_shared<const Checkpoint>(MakeCheckpoint(1)), Priority::kConversation);
  c.Put(2, std::make_shared<const Checkpoint>(MakeCheckpoint(2)), Priority::kGeneral);
  c.Put(3, std::make_shared<const Checkpoint>(MakeCheckpoint(3)), Priority::kGeneral);
  // Plain LRU would demote 1 (oldest); its weight keeps it and 2 goes instead.
  EXPECT_EQ(c.Stats().tiers[1].entries, 1);
  EXPECT_NE(c.Get(1), nullptr);
  EXPECT_EQ(c.Stats().tiers[1].hits, 0);  // 1 was still in L1
}

TEST(TieredCacheTest, DoorkeeperKeepsOneHitWondersOffDisk) {
  TempDir dir;
  auto o = SmallOptions(1, 1, dir.path);  // L2 too small for anything: L1 spills straight to L3
  auto cache = TieredCache::Open(o);
  auto& c = **cache;
  for (uint32_t k = 1; k <= 5; ++k) c.Put(k, std::make_shared<const Checkpoint>(MakeCheckpoint(k)), Priority::kGeneral);
  auto s = c.Stats();
  EXPECT_EQ(s.tiers[2].entries, 0);
  EXPECT_EQ(s.l3_admission_rejections, 4);
  // A key seen before (put again after being dropped) is admitted on its second demotion.
  c.Put(1, std::make_shared<const Checkpoint>(MakeCheckpoint(1)), Priority::kGeneral);  // demotes 5: refused
  c.Put(6, std::make_shared<const Checkpoint>(MakeCheckpoint(6)), Priority::kGeneral);  // demotes 1: admitted
  EXPECT_EQ(c.Stats().tiers[2].entries, 1);
  EXPECT_NE(c.Get(1), nullptr);
  EXPECT_EQ(c.Stats().tiers[2].promotions, 1);
  // Sessions ("conversation") always persist. (Put(50) demotes 1, which was hit: admitted too.)
  c.Put(50, std::make_shared<const Checkpoint>(MakeCheckpoint(50)), Priority::kConversation);
  c.Put(51, std::make_shared<const Checkpoint>(MakeCheckpoint(51)), Priority::kGeneral);
  EXPECT_EQ(c.Stats().tiers[2].entries, 2);
  EXPECT_NE(c.Get(50), nullptr);
  EXPECT_EQ(c.Stats().tiers[2].promotions, 2);
}

TEST(TieredCacheTest, RestartRebuildsPrefixIndexFromDisk) {
  TempDir dir;
  auto prompt = Prompt(200);
  CacheKey key;
  CacheKey session = TieredCache::SessionKey("m", "sess-1");
  {
    auto o = SmallOptions(1, 1, dir.path);
    o.l3_admit_all = true;
    auto cache = TieredCache::Open(o);
    auto& c = **cache;
    key = c.PutPrefix("m", std::span(prompt).first(150), MakeCheckpoint(150));
    c.Put(session, std::make_shared<const Checkpoint>(MakeCheckpoint(9)), Priority::kConversation);
    c.Put(999, std::make_shared<const Checkpoint>(MakeCheckpoint(999)), Priority::kGeneral);  // pushes both to disk
    EXPECT_EQ(c.Stats().tiers[2].entries, 2);
  }
  auto cache = TieredCache::Open(SmallOptions(1, 1, dir.path));
  ASSERT_TRUE(cache.ok());
  auto& c = **cache;
  EXPECT_EQ(c.Stats().prefix_entries, 1);
  auto hit = c.LookupPrefix("m", prompt);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->key, key);
  EXPECT_EQ(hit->tokens, 150);
  EXPECT_EQ(hit->checkpoint->state, MakeCheckpoint(150).state);
  auto s = c.Get(session);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, MakeCheckpoint(9).state);
}

TEST(TieredCacheTest, FlushThenReopenIsWarm) {
  TempDir dir;
  auto prompt = Prompt(200);
  CacheKey session = TieredCache::SessionKey("m", "s");
  {
    auto o = SmallOptions(8, 3000, dir.path);  // all in RAM; the doorkeeper stays on: Flush bypasses it
    auto cache = TieredCache::Open(o);
    auto& c = **cache;
    for (int n = 50; n <= 200; n += 50) c.PutPrefix("m", std::span(prompt).first(n), MakeCheckpoint(n));
    c.Put(session, std::make_shared<const Checkpoint>(MakeCheckpoint(9)), Priority::kConversation);
    auto s = c.Stats();
    ASSERT_EQ(s.tiers[0].entries, 5);
    ASSERT_EQ(s.tiers[2].entries, 0);
    ASSERT_TRUE(c.Flush().ok());
    s = c.Stats();
    EXPECT_EQ(s.tiers[0].entries, 0);
    EXPECT_EQ(s.tiers[1].entries, 0);
    EXPECT_EQ(s.tiers[2].entries, 5);
    EXPECT_EQ(s.prefix_entries, 4);
    // Still usable after a flush: entries come back up.
    auto hit = c.LookupPrefix("m", std::span(prompt).first(120));
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->tokens, 100);
    EXPECT_EQ(c.Stats().tiers[0].entries, 1);
    ASSERT_TRUE(c.Flush().ok());  // and again: a promoted entry would be lost at exit otherwise
  }
  auto cache = TieredCache::Open(SmallOptions(8, 3000, dir.path));
  ASSERT_TRUE(cache.ok());
  auto& c = **cache;
  EXPECT_EQ(c.Stats().prefix_entries, 4);
  for (int n = 50; n <= 200; n += 50) {
    auto hit = c.LookupPrefix("m", std::span(prompt).first(n));
    ASSERT_TRUE(hit) << n;
    EXPECT_EQ(hit->tokens, n);
    EXPECT_EQ(*hit->checkpoint, [&] {
      Checkpoint cp = MakeCheckpoint(n);
      cp.prefix.assign(prompt.begin(), prompt.begin() + n);
      cp.tokens = n;
      return cp;
    }());
  }
  ASSERT_NE(c.Get(session), nullptr);
  EXPECT_EQ(c.Get(session)->state, MakeCheckpoint(9).state);
  EXPECT_EQ(c.Stats().tiers[2].promotions, 5);
}

TEST(TieredCacheTest, ClearEmptiesEverything) {
  TempDir dir;
  auto o = SmallOptions(1, 3000, dir.path);
  o.l3_admit_all = true;
  auto cache = TieredCache::Open(o);
  auto& c = **cache;
  auto prompt = Prompt(64);
  for (int n = 16; n <= 64; n += 16) c.PutPrefix("m", std::span(prompt).first(n), MakeCheckpoint(n));
  c.Clear();
  auto s = c.Stats();
  for (auto& t : s.tiers) EXPECT_EQ(t.entries, 0) << t.name;
  EXPECT_EQ(s.prefix_entries, 0);
  EXPECT_FALSE(c.LookupPrefix("m", prompt).has_value());
}

TEST(TieredCacheStressTest, ConcurrentGetPutEraseStayConsistent) {
  TempDir dir;
  auto o = SmallOptions(6, 6000, dir.path);
  o.l1.shards = 4;
  o.l2.shards = 4;
  o.l1.policy = EvictionPolicyKind::kSieve;
  auto cache = TieredCache::Open(o);
  ASSERT_TRUE(cache.ok());
  auto& c = **cache;
  constexpr int kThreads = 4, kOps = 1500, kKeys = 40;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      auto prompt = Prompt(64, 3);
      for (int i = 0; i < kOps; ++i) {
        uint32_t k = rng() % kKeys;
        switch (rng() % 8) {
          case 0: case 1: case 2:
            c.Put(k, std::make_shared<const Checkpoint>(MakeCheckpoint(k)), static_cast<Priority>(k % kPriorityCount));
            break;
          case 3:
            c.Erase(k);
            break;
          case 4: {
            int n = 1 + static_cast<int>(rng() % 64);
            c.PutPrefix("m", std::span(prompt).first(n), MakeCheckpoint(1000 + n));
            auto hit = c.LookupPrefix("m", prompt);
            if (hit && hit->checkpoint->state != MakeCheckpoint(1000 + static_cast<uint32_t>(hit->tokens)).state) ++bad;
            break;
          }
          default: {
            auto cp = c.Get(k);
            // Whatever is found is exactly what was put under that key.
            if (cp && cp->state != MakeCheckpoint(k).state) ++bad;
            (void)c.Stats();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  auto s = c.Stats();
  EXPECT_LE(s.tiers[0].bytes, static_cast<int64_t>(o.l1.capacity_bytes));
  EXPECT_LE(s.tiers[1].bytes, static_cast<int64_t>(o.l2.capacity_bytes));
  // Every key is held at most once across the tiers.
  int total = 0;
  for (auto& t : s.tiers) total += t.entries;
  EXPECT_LE(total, kKeys + 64);
}

}  // namespace
}  // namespace dte
