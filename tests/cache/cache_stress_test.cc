// Concurrent stress over every tier: two TieredCache instances ("workers") with L1, L2, L3 (each
// its own directory) and one shared Redis (when redis-server is installed), several threads doing
// LookupPrefix / PutPrefix / Get / Put / Erase / Stats / Clear / Flush on small and real-size
// (RWKV-7 0.1B, 2.4 MB) entries. Whatever a lookup returns must be exactly what was stored under
// that key. Meant to be run under ThreadSanitizer too (see docs/state_cache.md).

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "cache/cache_test_util.h"
#include "cache/redis_server.h"
#include "cache/tiered_cache.h"

namespace dte {
namespace {

using testing::MakeCheckpoint;
using testing::RedisServer;
using testing::TempDir;

constexpr size_t kRealFloats = 12 * (12 * 64 * 64 + 2 * 768);  // RWKV-7 0.1B state
constexpr size_t kRealVocab = 65536;
constexpr uint32_t kBigKeys = 3;    // keys 100.. hold real-size states
constexpr uint32_t kSmallKeys = 32;

TieredCacheOptions StressOptions(const std::string& dir, const RedisServer* redis) {
  TieredCacheOptions o;
  o.block_tokens = 8;
  o.l1.capacity_bytes = 6 << 20;  // two real-size states, or thousands of small ones
  o.l1.shards = 4;
  o.l2.capacity_bytes = 8 << 20;
  o.l2.shards = 4;
  o.l3 = DiskTierOptions{};
  o.l3->dir = dir;
  o.l3->capacity_bytes = 24 << 20;
  o.l3_admit_all = true;
  if (redis) {
    o.redis = RedisTierOptions{};
    o.redis->url = redis->url();
    o.redis->key_prefix = "stress:";
    o.redis->write_all = true;
    o.redis->backoff = std::chrono::milliseconds(100);
    o.redis->command_timeout = std::chrono::milliseconds(2000);  // TSan is slow; nothing should time out
  }
  return o;
}

TEST(CacheStressTest, AllTiersManyThreadsStayConsistent) {
  RedisServer server;
  bool with_redis = server.available() && server.Start();
  if (!with_redis) std::printf("redis-server not available: stressing the local tiers only\n");
  TempDir dir_a, dir_b;
  auto a = TieredCache::Open(StressOptions(dir_a.path, with_redis ? &server : nullptr));
  auto b = TieredCache::Open(StressOptions(dir_b.path, with_redis ? &server : nullptr));
  ASSERT_TRUE(a.ok() && b.ok());
  TieredCache* workers[2] = {a->get(), b->get()};

  std::vector<std::shared_ptr<const Checkpoint>> big;
  for (uint32_t i = 0; i < kBigKeys; ++i)
    big.push_back(std::make_shared<const Checkpoint>(MakeCheckpoint(100 + i, kRealFloats, kRealVocab)));
  std::vector<std::shared_ptr<const Checkpoint>> small;
  for (uint32_t k = 0; k < kSmallKeys; ++k) small.push_back(std::make_shared<const Checkpoint>(MakeCheckpoint(k)));
  std::vector<int32_t> prompt(96);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i * 5 % 31);

  constexpr int kThreads = 4, kOps = 400;
  std::atomic<int> bad{0}, found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      for (int i = 0; i < kOps; ++i) {
        TieredCache& c = *workers[rng() % 2];
        uint32_t op = rng() % 100;
        bool is_big = rng() % 16 == 0;
        uint32_t k = is_big ? 100 + rng() % kBigKeys : rng() % kSmallKeys;
        const auto& expect = is_big ? big[k - 100] : small[k];
        auto prio = k % 3 == 0 ? Priority::kConversation : Priority::kGeneral;
        if (op < 30) {
          c.Put(k, expect, prio);
        } else if (op < 60) {
          auto cp = c.Get(k);
          if (cp) {
            ++found;
            if (cp->state != expect->state || cp->logits != expect->logits) ++bad;
          }
        } else if (op < 68) {
          c.Erase(k);
        } else if (op < 80) {
          int n = 1 + static_cast<int>(rng() % prompt.size());
          c.PutPrefix("m", std::span(prompt).first(n), MakeCheckpoint(1000 + n));
        } else if (op < 95) {
          auto hit = c.LookupPrefix("m", prompt);
          if (hit) {
            ++found;
            if (hit->checkpoint->state != MakeCheckpoint(1000 + static_cast<uint32_t>(hit->tokens)).state ||
                hit->checkpoint->prefix != std::vector<int32_t>(prompt.begin(), prompt.begin() + hit->tokens))
              ++bad;
          }
        } else if (op < 98) {
          auto s = c.Stats();
          if (s.tiers[0].bytes > 6 << 20 || s.tiers[1].bytes > 8 << 20 || s.tiers[2].bytes > 24 << 20) ++bad;
        } else if (op < 99) {
          (void)c.Flush();
        } else if (rng() % 4 == 0) {
          c.Clear();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(found.load(), 0);
  for (TieredCache* c : workers) {
    auto s = c->Stats();
    EXPECT_LE(s.tiers[0].bytes, 6 << 20);
    EXPECT_LE(s.tiers[1].bytes, 8 << 20);
    EXPECT_LE(s.tiers[2].bytes, 24 << 20);
    if (with_redis) {
      EXPECT_EQ(s.tiers.back().name, "redis");
      EXPECT_GT(s.tiers.back().writes, 0);
      EXPECT_EQ(s.tiers.back().corrupt, 0);
    }
    // Each key is held at most once across the local tiers.
    int64_t total = 0;
    for (size_t i = 0; i < 3; ++i) total += s.tiers[i].entries;
    EXPECT_LE(total, kSmallKeys + kBigKeys + static_cast<int64_t>(prompt.size()));
  }
}

}  // namespace
}  // namespace dte
