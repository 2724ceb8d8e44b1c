// State cache micro benchmarks: L1 get/put operations per second, small keys and real-size
// states, 1 and 2 threads; and a TieredCache prefix lookup.
//
//   build/bench/dte_bench_micro --benchmark_filter='Cache'

#include <benchmark/benchmark.h>

#include <memory>
#include <random>

#include "cache/ram_tier.h"
#include "cache/tiered_cache.h"

namespace dte {
namespace {

// RWKV-7 0.1B: 12 layers x (2 + 64) x 768 floats = 2.4 MB of state + 65,536 logits.
constexpr size_t kRealStateBytes = 12 * 66 * 768 * 4;
constexpr size_t kRealVocab = 65536;

std::shared_ptr<const Checkpoint> MakeEntry(size_t state_bytes, size_t vocab) {
  auto cp = std::make_shared<Checkpoint>();
  cp->state.resize(state_bytes, 1);
  cp->logits.resize(vocab, 0.5f);
  return cp;
}

// One L1 shared by all benchmark threads (set up by thread 0).
struct L1Fixture {
  std::unique_ptr<RamTier> tier;
  std::vector<std::shared_ptr<const Checkpoint>> entries;
};
L1Fixture* g_fixture = nullptr;

void SetUp(const benchmark::State& state, size_t keys, size_t state_bytes, size_t vocab) {
  if (state.thread_index() != 0) return;
  g_fixture = new L1Fixture;
  g_fixture->tier = std::make_unique<RamTier>(RamTierOptions{.capacity_bytes = size_t{8} << 30, .shards = 16,
                                                             .policy = EvictionPolicyKind::kSieve});
  auto cp = MakeEntry(state_bytes, vocab);  // one payload shared by every key: measures the cache, not memcpy
  std::vector<EvictedEntry> ev;
  for (size_t k = 0; k < keys; ++k) {
    (void)g_fixture->tier->Put(k * 0x9e3779b97f4a7c15ull, TierEntry{cp, Priority::kGeneral, nullptr}, &ev);
  }
  g_fixture->entries.push_back(cp);
}

void TearDown(const benchmark::State& state) {
  if (state.thread_index() != 0) return;
  delete g_fixture;
  g_fixture = nullptr;
}

void BM_CacheL1Get(benchmark::State& state, size_t state_bytes, size_t vocab) {
  constexpr size_t kKeys = 4096;
  SetUp(state, kKeys, state_bytes, vocab);
  std::mt19937_64 rng(state.thread_index());
  uint64_t i = rng();
  for (auto _ : state) {
    auto e = g_fixture->tier->Get((i++ % kKeys) * 0x9e3779b97f4a7c15ull, false);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  TearDown(state);
}

void BM_CacheL1Put(benchmark::State& state, size_t state_bytes, size_t vocab) {
  constexpr size_t kKeys = 4096;
  SetUp(state, 0, state_bytes, vocab);
  auto cp = MakeEntry(state_bytes, vocab);
  std::vector<EvictedEntry> ev;
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 32;
  for (auto _ : state) {
    ev.clear();
    (void)g_fixture->tier->Put((i++ % kKeys) * 0x9e3779b97f4a7c15ull, TierEntry{cp, Priority::kGeneral, nullptr}, &ev);
  }
  state.SetItemsProcessed(state.iterations());
  TearDown(state);
}

BENCHMARK_CAPTURE(BM_CacheL1Get, small, 64, 0)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_CacheL1Get, real_state, kRealStateBytes, kRealVocab)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_CacheL1Put, small, 64, 0)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_CacheL1Put, real_state, kRealStateBytes, kRealVocab)->Threads(1)->Threads(2)->UseRealTime();

// The engine's admission path: longest cached prefix of a 2,000-token prompt, found in L1.
void BM_CachePrefixLookup(benchmark::State& state) {
  TieredCacheOptions o;
  o.enable_l2 = false;
  auto cache = TieredCache::Open(o);
  std::vector<int32_t> prompt(2000);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i * 31 % 50000);
  for (size_t n = 256; n <= 1792; n += 256) {
    Checkpoint cp;
    cp.state.resize(1024);
    (*cache)->PutPrefix("m", std::span(prompt).first(n), std::move(cp));
  }
  for (auto _ : state) {
    auto hit = (*cache)->LookupPrefix("m", prompt);
    benchmark::DoNotOptimize(hit);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CachePrefixLookup);

}  // namespace
}  // namespace dte
