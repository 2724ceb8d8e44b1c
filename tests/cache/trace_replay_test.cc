// Policy study: replays ../shared/traces/mooncake_synthetic_trace.jsonl through the prefix index and
// an L1-only TieredCache at several capacities under LRU, SIEVE, S3-FIFO and W-TinyLFU, and prints
// the hit ratios recorded in docs/state_cache.md. Each hash id names a 512-token block; equal ids
// mean shared prefixes. The replay takes the checkpoint policy of docs/state_cache.md: a
// checkpoint at the end of each prompt and every 4 blocks (2,048 tokens) of a long one. An RWKV
// checkpoint has a fixed size, so capacity is counted in checkpoints.
//
//   build-cache/tests/cache_tests --gtest_filter='TraceReplay*'

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/tiered_cache.h"

namespace dte {
namespace {

constexpr int kCheckpointEveryBlocks = 4;
constexpr size_t kStateBytes = 16 << 10;  // stand-in state; fixed size like a real one

std::vector<std::vector<int32_t>> LoadTrace(const std::string& path) {
  std::vector<std::vector<int32_t>> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line);
    out.push_back(j["hash_ids"].get<std::vector<int32_t>>());
  }
  return out;
}

struct ReplayResult {
  double block_hit_ratio;    // prompt blocks skipped thanks to a cached prefix
  double request_hit_ratio;  // requests that found any cached prefix
};

ReplayResult Replay(const std::vector<std::vector<int32_t>>& trace, size_t capacity, EvictionPolicyKind policy,
                    int shards) {
  TieredCacheOptions o;
  o.block_tokens = 1;  // one hash id per "token": a block hash id already names 512 tokens
  o.enable_l2 = false;
  o.l1.shards = shards;
  o.l1.policy = policy;
  Checkpoint probe;
  probe.state.resize(kStateBytes);
  o.l1.capacity_bytes = capacity * (probe.bytes() + 64 * 4);  // + an average prefix
  auto cache = TieredCache::Open(o);
  DTE_CHECK(cache.ok(), "open");
  int64_t blocks = 0, hit_blocks = 0, hit_requests = 0;
  for (const auto& req : trace) {
    blocks += static_cast<int64_t>(req.size());
    auto hit = (*cache)->LookupPrefix("m", req);
    int64_t from = hit ? hit->tokens : 0;
    if (hit && hit->tokens > 0) {
      hit_blocks += hit->tokens;
      ++hit_requests;
    }
    // Prefill from `from` takes checkpoints at every 4th block and at the end.
    for (size_t n = (from / kCheckpointEveryBlocks + 1) * kCheckpointEveryBlocks; n <= req.size();
         n += kCheckpointEveryBlocks) {
      if (n == req.size()) break;
      Checkpoint cp;
      cp.state.resize(kStateBytes);
      (*cache)->PutPrefix("m", std::span(req).first(n), std::move(cp));
    }
    if (static_cast<int64_t>(req.size()) > from) {
      Checkpoint cp;
      cp.state.resize(kStateBytes);
      (*cache)->PutPrefix("m", req, std::move(cp));
    }
  }
  return {static_cast<double>(hit_blocks) / blocks, static_cast<double>(hit_requests) / trace.size()};
}

TEST(TraceReplayTest, MooncakeFourPolicies) {
  std::string path = std::string(DTE_SHARED_DIR) + "/traces/mooncake_synthetic_trace.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no trace at " << path;
  auto trace = LoadTrace(path);
  ASSERT_FALSE(trace.empty());
  const EvictionPolicyKind kinds[] = {EvictionPolicyKind::kLru, EvictionPolicyKind::kSieve, EvictionPolicyKind::kS3Fifo,
                                      EvictionPolicyKind::kWTinyLfu};
  // One shard: the policies themselves. 16 shards: RamTier's default (one policy per shard, one
  // byte budget, eviction from the inserting shard first).
  for (int shards : {1, 16}) {
    std::printf("\n%d shard(s)\n\n", shards);
    std::printf("| capacity (checkpoints) | block hit: LRU | SIEVE | S3-FIFO | W-TinyLFU "
                "| request hit: LRU | SIEVE | S3-FIFO | W-TinyLFU |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    double last_lru = -1;
    std::vector<ReplayResult> r;
    for (size_t capacity : {250, 500, 1000, 2000, 4000, 8000, 16000}) {
      r.clear();
      for (EvictionPolicyKind kind : kinds) r.push_back(Replay(trace, capacity, kind, shards));
      std::printf("| %zu | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", capacity, r[0].block_hit_ratio,
                  r[1].block_hit_ratio, r[2].block_hit_ratio, r[3].block_hit_ratio, r[0].request_hit_ratio,
                  r[1].request_hit_ratio, r[2].request_hit_ratio, r[3].request_hit_ratio);
      std::fflush(stdout);
      if (shards == 1) {
        EXPECT_GE(r[0].block_hit_ratio, last_lru - 1e-9);  // more room never hurts LRU (stack property)
        last_lru = r[0].block_hit_ratio;
      }
    }
    // 16,000 checkpoints hold the whole trace: nothing is evicted, so every policy hits the same.
    for (size_t i = 1; i < r.size(); ++i) {
      EXPECT_DOUBLE_EQ(r[i].block_hit_ratio, r[0].block_hit_ratio) << EvictionPolicyName(kinds[i]);
      EXPECT_DOUBLE_EQ(r[i].request_hit_ratio, r[0].request_hit_ratio) << EvictionPolicyName(kinds[i]);
    }
  }
}

}  // namespace
}  // namespace dte
