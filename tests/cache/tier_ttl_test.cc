// TTLs of the single tiers, driven by a ManualCacheClock (no sleeping): expiry at Get in L1 and
// L2, no expiry with ttl 0, the sweep (ExpireDue) frees bytes without a Get, sessions follow
// session_ttl instead of ttl, a carried cached_at keeps the deadline, and L3's sweep deletes
// files.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "cache/cache_test_util.h"
#include "cache/compressed_tier.h"
#include "cache/disk_tier.h"
#include "cache/ram_tier.h"

namespace dte {
namespace {

using namespace std::chrono_literals;
using testing::MakeCheckpoint;

TierEntry Entry(uint32_t seed, Priority p = Priority::kGeneral) {
  return TierEntry{std::make_shared<const Checkpoint>(MakeCheckpoint(seed)), p, nullptr};
}

RamTierOptions RamOptions(std::shared_ptr<ManualCacheClock> clock, std::chrono::seconds ttl) {
  RamTierOptions o;
  o.capacity_bytes = 1 << 24;
  o.shards = 4;
  o.ttl = ttl;
  o.clock = std::move(clock);
  return o;
}

CompressedTierOptions L2Options(std::shared_ptr<ManualCacheClock> clock, std::chrono::seconds ttl) {
  CompressedTierOptions o;
  o.capacity_bytes = 1 << 24;
  o.shards = 4;
  o.ttl = ttl;
  o.clock = std::move(clock);
  return o;
}

// Runs the same checks on L1 and L2.
template <class Tier, class Options>
void ExpiresOnGet(const Options& o, const std::shared_ptr<ManualCacheClock>& clock) {
  Tier tier(o);
  std::vector<EvictedEntry> ev;
  ASSERT_TRUE(tier.Put(1, Entry(1), &ev));
  ASSERT_TRUE(tier.Put(2, Entry(2), &ev));
  EXPECT_TRUE(ev.empty());
  clock->Advance(9s);
  auto hit = tier.Get(1, false);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->checkpoint->state, MakeCheckpoint(1).state);
  EXPECT_TRUE(tier.Contains(2));
  clock->Advance(1s);  // exactly ttl old: expired (a hit does not extend the life)
  EXPECT_FALSE(tier.Contains(2));
  EXPECT_FALSE(tier.Get(1, false).has_value());
  EXPECT_FALSE(tier.Get(2, true).has_value());
  TierStats s = tier.Stats();
  EXPECT_EQ(s.expirations, 2);
  EXPECT_EQ(s.evictions, 0);
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 2);
  EXPECT_EQ(s.entries, 0);
  EXPECT_EQ(s.bytes, 0);
  EXPECT_EQ(s.raw_bytes, 0);
  // A new Put of the key starts a new life.
  ASSERT_TRUE(tier.Put(1, Entry(1), &ev));
  clock->Advance(5s);
  EXPECT_TRUE(tier.Get(1, false).has_value());
}

TEST(TierTtlTest, RamTierExpiresOnGet) {
  auto clock = std::make_shared<ManualCacheClock>();
  ExpiresOnGet<RamTier>(RamOptions(clock, 10s), clock);
}

TEST(TierTtlTest, CompressedTierExpiresOnGet) {
  auto clock = std::make_shared<ManualCacheClock>();
  ExpiresOnGet<CompressedTier>(L2Options(clock, 10s), clock);
}

TEST(TierTtlTest, ZeroTtlNeverExpires) {
  auto clock = std::make_shared<ManualCacheClock>();
  RamTier l1(RamOptions(clock, 0s));
  CompressedTier l2(L2Options(clock, 0s));
  std::vector<EvictedEntry> ev;
  for (uint32_t k = 1; k <= 8; ++k) {
    ASSERT_TRUE(l1.Put(k, Entry(k), &ev));
    ASSERT_TRUE(l2.Put(k, Entry(k), &ev));
  }
  clock->Advance(std::chrono::hours(24 * 365 * 10));
  std::vector<CacheKey> expired;
  EXPECT_EQ(l1.ExpireDue(&expired), 0u);
  EXPECT_EQ(l2.ExpireDue(&expired), 0u);
  EXPECT_TRUE(expired.empty());
  for (uint32_t k = 1; k <= 8; ++k) {
    EXPECT_TRUE(l1.Get(k, false).has_value()) << k;
    EXPECT_TRUE(l2.Get(k, false).has_value()) << k;
  }
  EXPECT_EQ(l1.Stats().expirations + l2.Stats().expirations, 0);
}

template <class Tier, class Options>
void SweepFreesBytes(const Options& o, const std::shared_ptr<ManualCacheClock>& clock) {
  Tier tier(o);
  std::vector<EvictedEntry> ev;
  for (uint32_t k = 1; k <= 100; ++k) ASSERT_TRUE(tier.Put(k, Entry(k), &ev));
  const int64_t old_bytes = tier.Stats().bytes;
  clock->Advance(5s);
  for (uint32_t k = 101; k <= 150; ++k) ASSERT_TRUE(tier.Put(k, Entry(k), &ev));
  const int64_t young_bytes = tier.Stats().bytes - old_bytes;
  ASSERT_GT(young_bytes, 0);
  std::vector<CacheKey> expired;
  EXPECT_EQ(tier.ExpireDue(&expired), 0u);  // nothing due yet
  clock->Advance(5s);                       // the first 100 are 10 s old
  EXPECT_EQ(tier.ExpireDue(&expired), 100u);
  ASSERT_EQ(expired.size(), 100u);
  std::sort(expired.begin(), expired.end());
  for (uint32_t k = 1; k <= 100; ++k) EXPECT_EQ(expired[k - 1], k);
  TierStats s = tier.Stats();
  EXPECT_EQ(s.entries, 50);
  EXPECT_EQ(s.bytes, young_bytes);
  EXPECT_EQ(s.expirations, 100);
  EXPECT_EQ(s.misses, 0);  // no Get was needed
  for (uint32_t k = 101; k <= 150; ++k) EXPECT_TRUE(tier.Contains(k));
  expired.clear();
  clock->Advance(5s);
  EXPECT_EQ(tier.ExpireDue(&expired), 50u);
  EXPECT_EQ(tier.Stats().bytes, 0);
  EXPECT_EQ(tier.Stats().entries, 0);
  EXPECT_EQ(tier.ExpireDue(&expired), 0u);
}

TEST(TierTtlTest, RamTierSweepFreesBytes) {
  auto clock = std::make_shared<ManualCacheClock>();
  SweepFreesBytes<RamTier>(RamOptions(clock, 10s), clock);
}

TEST(TierTtlTest, CompressedTierSweepFreesBytes) {
  auto clock = std::make_shared<ManualCacheClock>();
  SweepFreesBytes<CompressedTier>(L2Options(clock, 10s), clock);
}

TEST(TierTtlTest, SessionsFollowSessionTtlNotTtl) {
  auto clock = std::make_shared<ManualCacheClock>();
  RamTierOptions o = RamOptions(clock, 10s);
  RamTier no_session_ttl(o);
  o.session_ttl = 100s;
  RamTier with_session_ttl(o);
  std::vector<EvictedEntry> ev;
  for (RamTier* t : {&no_session_ttl, &with_session_ttl}) {
    ASSERT_TRUE(t->Put(1, Entry(1, Priority::kConversation), &ev));
    ASSERT_TRUE(t->Put(2, Entry(2, Priority::kReasoning), &ev));
  }
  clock->Advance(50s);
  std::vector<CacheKey> expired;
  EXPECT_EQ(no_session_ttl.ExpireDue(&expired), 1u);
  EXPECT_EQ(with_session_ttl.ExpireDue(&expired), 1u);
  EXPECT_EQ(expired, (std::vector<CacheKey>{2, 2}));  // the reasoning entries; sessions stay
  EXPECT_TRUE(no_session_ttl.Get(1, false).has_value());
  EXPECT_TRUE(with_session_ttl.Get(1, false).has_value());
  clock->Advance(50s);
  EXPECT_TRUE(no_session_ttl.Get(1, false).has_value());  // session_ttl 0: never
  EXPECT_FALSE(with_session_ttl.Get(1, false).has_value());
  EXPECT_EQ(with_session_ttl.Stats().expirations, 2);
}

TEST(TierTtlTest, CarriedStampKeepsTheDeadline) {
  // What TieredCache does on a demotion: the entry L1 evicts carries cached_at into L2.
  auto clock = std::make_shared<ManualCacheClock>();
  RamTierOptions o1 = RamOptions(clock, 10s);
  o1.capacity_bytes = MakeCheckpoint(0).bytes();  // one entry
  o1.shards = 1;
  RamTier l1(o1);
  CompressedTier l2(L2Options(clock, 10s));
  std::vector<EvictedEntry> ev;
  ASSERT_TRUE(l1.Put(1, Entry(1), &ev));
  const int64_t born = clock->NowNanos();
  clock->Advance(6s);
  ASSERT_TRUE(l1.Put(2, Entry(2), &ev));
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_EQ(ev[0].key, 1u);
  EXPECT_EQ(ev[0].entry.cached_at, born);
  std::vector<EvictedEntry> none;
  ASSERT_TRUE(l2.Put(ev[0].key, std::move(ev[0].entry), &none));
  clock->Advance(3s);  // 9 s old
  auto kept = l2.Get(1, false);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->cached_at, born);
  clock->Advance(1s);  // 10 s since it was cached, 4 s since it reached L2
  EXPECT_FALSE(l2.Get(1, false).has_value());
  EXPECT_EQ(l2.Stats().expirations, 1);
  EXPECT_TRUE(l1.Get(2, false).has_value());  // 4 s old
}

TEST(TierTtlTest, DiskTierSweepDeletesExpiredFiles) {
  testing::TempDir dir;
  DiskTierOptions o;
  o.dir = dir.path;
  o.capacity_bytes = 1 << 24;
  o.ttl = 60s;
  auto l3 = DiskTier::Open(o);
  ASSERT_TRUE(l3.ok());
  int64_t now = 1000;
  (*l3)->SetClockForTesting([&] { return now; });
  std::vector<EvictedEntry> ev;
  for (uint32_t k = 1; k <= 3; ++k) ASSERT_TRUE((*l3)->Put(k, Entry(k), &ev));
  now += 30;
  ASSERT_TRUE((*l3)->Put(4, Entry(4), &ev));
  std::vector<CacheKey> expired;
  now += 30;
  EXPECT_EQ((*l3)->ExpireDue(&expired), 3u);
  std::sort(expired.begin(), expired.end());
  EXPECT_EQ(expired, (std::vector<CacheKey>{1, 2, 3}));
  for (uint32_t k = 1; k <= 3; ++k) EXPECT_FALSE(std::filesystem::exists((*l3)->PathOf(k))) << k;
  EXPECT_TRUE(std::filesystem::exists((*l3)->PathOf(4)));
  TierStats s = (*l3)->Stats();
  EXPECT_EQ(s.entries, 1);
  EXPECT_EQ(s.expirations, 3);
  EXPECT_EQ(s.evictions, 0);
  EXPECT_TRUE((*l3)->Get(4, false).has_value());
}

}  // namespace
}  // namespace dte
