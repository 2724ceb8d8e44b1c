// TieredCache with RAM-tier TTLs on a ManualCacheClock: prefix checkpoints expire (at lookup and
// by the sweep, which also cleans the prefix index), a demotion L1 -> L2 and a promotion back keep
// the entry's deadline, sessions (conversation) outlive the TTL, ttl 0 keeps everything, and a
// concurrent test with the clock moving under put/get/sweep (run under ThreadSanitizer too).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cache/cache_test_util.h"
#include "cache/tiered_cache.h"

namespace dte {
namespace {

using namespace std::chrono_literals;
using testing::MakeCheckpoint;

std::vector<int32_t> Prompt(int n, int salt = 0) {
  std::vector<int32_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = (i * 11 + salt) % 97;
  return p;
}

struct Fixture {
  std::shared_ptr<ManualCacheClock> clock = std::make_shared<ManualCacheClock>();
  std::unique_ptr<TieredCache> cache;

  // L1 holds about `l1_entries` test checkpoints; both RAM tiers expire after `ttl`.
  explicit Fixture(size_t l1_entries, std::chrono::seconds ttl, std::chrono::seconds l2_ttl = -1s) {
    TieredCacheOptions o;
    o.block_tokens = 16;
    o.l1.capacity_bytes = MakeCheckpoint(0).bytes() * l1_entries + 64 * 4 * l1_entries;
    o.l1.shards = 1;
    o.l1.policy = EvictionPolicyKind::kLru;
    o.l1.ttl = ttl;
    o.l2.capacity_bytes = 1 << 24;
    o.l2.shards = 2;
    o.l2.ttl = l2_ttl < 0s ? ttl : l2_ttl;
    o.clock = clock;
    auto c = TieredCache::Open(o);
    EXPECT_TRUE(c.ok());
    cache = std::move(*c);
  }
  std::shared_ptr<const Checkpoint> Cp(uint32_t seed) { return std::make_shared<const Checkpoint>(MakeCheckpoint(seed)); }
};

TEST(TieredCacheTtlTest, PrefixExpiresAtLookupAndLeavesTheIndex) {
  Fixture f(8, 60s);
  TieredCache& c = *f.cache;
  const auto prompt = Prompt(100);
  c.PutPrefix("m", std::span(prompt).first(32), MakeCheckpoint(32));
  f.clock->Advance(30s);
  c.PutPrefix("m", std::span(prompt).first(64), MakeCheckpoint(64));
  ASSERT_EQ(c.LookupPrefix("m", prompt)->tokens, 64);
  f.clock->Advance(30s);  // the 32-token one is 60 s old, the 64-token one 30 s
  ASSERT_EQ(c.LookupPrefix("m", prompt)->tokens, 64);
  EXPECT_FALSE(c.LookupPrefix("m", std::span(prompt).first(40)).has_value());  // only the 32 matched
  EXPECT_EQ(c.Stats().prefix_entries, 1);  // the stale index entry was dropped
  f.clock->Advance(30s);
  EXPECT_FALSE(c.LookupPrefix("m", prompt).has_value());
  CacheStats s = c.Stats();
  EXPECT_EQ(s.prefix_entries, 0);
  EXPECT_EQ(s.tiers[0].expirations, 2);
  EXPECT_EQ(s.tiers[0].bytes, 0);
}

TEST(TieredCacheTtlTest, SweepFreesBytesAndCleansTheIndex) {
  Fixture f(4, 60s);  // L1 holds 4; the rest is demoted to L2
  TieredCache& c = *f.cache;
  for (int i = 0; i < 10; ++i) {
    const auto p = Prompt(48, i + 1);
    c.PutPrefix("m", p, MakeCheckpoint(i));
  }
  CacheStats before = c.Stats();
  ASSERT_EQ(before.prefix_entries, 10);
  ASSERT_GT(before.tiers[0].entries, 0);
  ASSERT_GT(before.tiers[1].entries, 0);
  EXPECT_EQ(c.ExpireDue(), 0u);
  f.clock->Advance(59s);
  EXPECT_EQ(c.ExpireDue(), 0u);
  f.clock->Advance(1s);
  EXPECT_EQ(c.ExpireDue(), 10u);
  CacheStats s = c.Stats();
  EXPECT_EQ(s.prefix_entries, 0);
  for (int t = 0; t < 2; ++t) {
    EXPECT_EQ(s.tiers[t].entries, 0) << t;
    EXPECT_EQ(s.tiers[t].bytes, 0) << t;
    EXPECT_EQ(s.tiers[t].expirations, before.tiers[t].entries) << t;
    EXPECT_EQ(s.tiers[t].misses, before.tiers[t].misses) << t;  // no Get did it
  }
}

TEST(TieredCacheTtlTest, DemotionAndPromotionKeepTheDeadline) {
  Fixture f(1, 10s);  // L1 holds one entry
  TieredCache& c = *f.cache;
  c.Put(1, f.Cp(1), Priority::kGeneral);
  f.clock->Advance(6s);
  c.Put(2, f.Cp(2), Priority::kGeneral);  // demotes 1 to L2 at age 6 s
  CacheStats s = c.Stats();
  ASSERT_EQ(s.tiers[0].entries, 1);
  ASSERT_EQ(s.tiers[1].entries, 1);
  f.clock->Advance(3s);  // 1 is 9 s old: a hit in L2, promoted to L1 (2 goes down)
  auto got = c.Get(1);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->state, MakeCheckpoint(1).state);
  EXPECT_EQ(c.Stats().tiers[1].promotions, 1);
  f.clock->Advance(1s);  // 1 is 10 s old in L1, although it came back up 1 s ago
  EXPECT_EQ(c.Get(1), nullptr);
  EXPECT_NE(c.Get(2), nullptr);  // 2 is 4 s old (demoted and promoted again meanwhile)
  f.clock->Advance(6s);
  EXPECT_EQ(c.Get(2), nullptr);
  s = c.Stats();
  EXPECT_EQ(s.tiers[0].expirations + s.tiers[1].expirations, 2);
  EXPECT_EQ(s.tiers[0].bytes + s.tiers[1].bytes, 0);
}

TEST(TieredCacheTtlTest, LongerL2TtlCountsFromTheSamePut) {
  Fixture f(1, 10s, 30s);
  TieredCache& c = *f.cache;
  c.Put(1, f.Cp(1), Priority::kGeneral);
  f.clock->Advance(5s);
  c.Put(2, f.Cp(2), Priority::kGeneral);  // 1 demoted at 5 s
  f.clock->Advance(24s);                  // 1 is 29 s old in L2; 2 expired in L1 (age 24 s)
  EXPECT_EQ(c.ExpireDue(), 1u);
  EXPECT_EQ(c.Stats().tiers[1].entries, 1);
  f.clock->Advance(1s);  // 30 s since its Put
  EXPECT_EQ(c.ExpireDue(), 1u);
  EXPECT_EQ(c.Get(1), nullptr);
}

TEST(TieredCacheTtlTest, SessionsOutliveTheRamTtl) {
  // Sessions reach the cache when the session store lets them go (--session-ttl idle, or
  // --max-sessions): the RAM tiers' ttl must not drop them; they follow session_ttl (0 here).
  Fixture f(2, 60s);
  TieredCache& c = *f.cache;
  const CacheKey s1 = TieredCache::SessionKey("m", "conversation-1");
  const CacheKey s2 = TieredCache::SessionKey("m", "conversation-2");
  c.Put(s1, f.Cp(1), Priority::kConversation);
  c.Put(s2, f.Cp(2), Priority::kConversation);
  const auto prompt = Prompt(40);
  c.PutPrefix("m", prompt, MakeCheckpoint(40));  // pushes s1 down to L2
  ASSERT_EQ(c.Stats().tiers[1].entries, 1);
  f.clock->Advance(std::chrono::hours(48));
  EXPECT_EQ(c.ExpireDue(), 1u);  // the prefix only
  EXPECT_FALSE(c.LookupPrefix("m", prompt).has_value());
  auto a = c.Get(s1), b = c.Get(s2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->state, MakeCheckpoint(1).state);
  EXPECT_EQ(b->state, MakeCheckpoint(2).state);
}

TEST(TieredCacheTtlTest, ZeroTtlKeepsEverything) {
  Fixture f(2, 0s);
  TieredCache& c = *f.cache;
  for (uint32_t k = 1; k <= 6; ++k) c.Put(k, f.Cp(k), Priority::kGeneral);
  f.clock->Advance(std::chrono::hours(24 * 3650));
  EXPECT_EQ(c.ExpireDue(), 0u);
  for (uint32_t k = 1; k <= 6; ++k) EXPECT_NE(c.Get(k), nullptr) << k;
}

TEST(TieredCacheTtlTest, ConcurrentPutGetWhileTheClockMoves) {
  // 4 threads put and read small entries (keys 1..64, sessions among them), each moving the
  // clock by 1 s every 50 operations and sweeping every 100, while another thread reads the
  // stats. Every hit must be exactly what was stored under its key, budgets must hold, and once
  // time has run past the TTL a sweep empties the RAM tiers of everything but sessions.
  Fixture f(16, 5s);
  TieredCache& c = *f.cache;
  constexpr int kThreads = 4, kOps = 3000;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int64_t> hits{0};
  auto is_session = [](uint32_t k) { return k % 8 == 0; };
  std::thread reader([&] {
    while (!done.load()) {
      (void)c.Stats();  // (a put may overshoot the budget for a moment: not checked here)
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      uint32_t x = 12345u + t;
      for (int i = 0; i < kOps; ++i) {
        if (i % 50 == 0) f.clock->Advance(1s);
        if (i % 100 == t * 25) c.ExpireDue();
        x = x * 1664525u + 1013904223u;
        const uint32_t k = 1 + (x >> 8) % 64;
        const int op = (x >> 20) % 4;
        if (op == 0) {
          c.Put(k, std::make_shared<const Checkpoint>(MakeCheckpoint(k)),
                is_session(k) ? Priority::kConversation : Priority::kGeneral);
        } else if (op == 1) {
          const auto p = Prompt(32, static_cast<int>(k));
          c.PutPrefix("m", p, MakeCheckpoint(1000 + k));
        } else if (op == 2) {
          if (auto got = c.Get(k)) {
            hits.fetch_add(1);
            if (got->state != MakeCheckpoint(k).state) bad.fetch_add(1);
          }
        } else {
          const auto p = Prompt(40, static_cast<int>(k));
          if (auto hit = c.LookupPrefix("m", p)) {
            hits.fetch_add(1);
            if (hit->tokens != 32 || hit->checkpoint->state != MakeCheckpoint(1000 + k).state) bad.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  done.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(hits.load(), 0);
  CacheStats s = c.Stats();
  EXPECT_LE(s.tiers[0].bytes, s.tiers[0].capacity_bytes);
  EXPECT_LE(s.tiers[1].bytes, s.tiers[1].capacity_bytes);
  EXPECT_GT(s.tiers[0].expirations + s.tiers[1].expirations, 0);
  f.clock->Advance(10s);
  c.ExpireDue();
  s = c.Stats();
  int64_t sessions = 0;
  for (uint32_t k = 8; k <= 64; k += 8) {
    if (auto got = c.Get(k)) {
      ++sessions;
      EXPECT_EQ(got->state, MakeCheckpoint(k).state);
    }
  }
  EXPECT_EQ(s.tiers[0].entries + s.tiers[1].entries, sessions);  // only sessions are left
  EXPECT_EQ(s.prefix_entries, 0);
}

}  // namespace
}  // namespace dte
