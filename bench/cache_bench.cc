// State cache micro benchmarks: L1 get/put operations per second (small entries and real-size
// RWKV-7 0.1B states, 1 and 2 threads), TieredCache get and prefix lookup, the L2 codec (MB/s),
// L3 put/get, and the shared Redis tier (a redis-server child on a free port, when installed).
//
//   build/bench/dte_bench_micro --benchmark_filter='Cache'

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "cache/checkpoint_codec.h"
#include "cache/disk_tier.h"
#include "cache/ram_tier.h"
#include "cache/redis_tier.h"
#include "cache/tiered_cache.h"

extern char** environ;

namespace dte {
namespace {

// RWKV-7 0.1B: 12 layers x (12 heads x 64 x 64 + 2 x 768) floats = 2.4 MB of state + 65,536 logits.
constexpr size_t kRealFloats = 12 * (12 * 64 * 64 + 2 * 768);
constexpr size_t kRealStateBytes = 32 + kRealFloats * 4;
constexpr size_t kRealVocab = 65536;

std::shared_ptr<const Checkpoint> MakeEntry(size_t state_bytes, size_t vocab) {
  auto cp = std::make_shared<Checkpoint>();
  cp->state.resize(state_bytes, 1);
  cp->logits.resize(vocab, 0.5f);
  return cp;
}

// A State blob ("DTES" header + floats) with normally distributed values: as hard to compress as
// a real state's mantissas (the byte shuffle still finds the exponents).
std::shared_ptr<const Checkpoint> RealisticEntry() {
  auto cp = std::make_shared<Checkpoint>();
  cp->model_id = "rwkv7-0.1b";
  cp->tokens = 2048;
  cp->state.resize(kRealStateBytes);
  uint32_t header[8] = {0x53455444, 1, 7, 12, 12, 64, 0, static_cast<uint32_t>(kRealFloats)};
  std::memcpy(cp->state.data(), header, sizeof header);
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0, 1);
  for (size_t i = 0; i < kRealFloats; ++i) {
    float f = d(rng);
    std::memcpy(cp->state.data() + 32 + 4 * i, &f, 4);
  }
  cp->logits.resize(kRealVocab);
  for (float& f : cp->logits) f = 4 * d(rng);
  return cp;
}

// ---- L1 ----

struct L1Fixture {
  std::unique_ptr<RamTier> tier;
};
L1Fixture* g_fixture = nullptr;  // one L1 shared by all benchmark threads (set up by thread 0)

void SetUp(const benchmark::State& state, size_t keys, size_t state_bytes, size_t vocab) {
  if (state.thread_index() != 0) return;
  g_fixture = new L1Fixture;
  g_fixture->tier = std::make_unique<RamTier>(RamTierOptions{.capacity_bytes = size_t{8} << 30, .shards = 16,
                                                             .policy = EvictionPolicyKind::kSieve});
  // Distinct payloads (real-size: 64 of them, cycled), so threads do not all bump one refcount.
  std::vector<std::shared_ptr<const Checkpoint>> payloads;
  size_t distinct = state_bytes > 4096 ? std::min<size_t>(keys, 64) : keys;
  for (size_t i = 0; i < distinct; ++i) payloads.push_back(MakeEntry(state_bytes, vocab));
  std::vector<EvictedEntry> ev;
  for (size_t k = 0; k < keys; ++k)
    (void)g_fixture->tier->Put(k * 0x9e3779b97f4a7c15ull, TierEntry{payloads[k % distinct], Priority::kGeneral, nullptr}, &ev);
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

// ---- TieredCache ----

TieredCache* g_tiered = nullptr;

// The engine's session path: TieredCache::Get of a key held in L1 (stats, doorkeeper included).
void BM_CacheTieredGet(benchmark::State& state) {
  constexpr size_t kKeys = 4096;
  if (state.thread_index() == 0) {
    TieredCacheOptions o;
    g_tiered = TieredCache::Open(o)->release();
    for (size_t k = 0; k < kKeys; ++k) g_tiered->Put(k * 0x9e3779b97f4a7c15ull, MakeEntry(64, 0), Priority::kGeneral);
  }
  uint64_t i = static_cast<uint64_t>(state.thread_index()) * 977;
  for (auto _ : state) {
    auto e = g_tiered->Get((i++ % kKeys) * 0x9e3779b97f4a7c15ull);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete g_tiered;
    g_tiered = nullptr;
  }
}
BENCHMARK(BM_CacheTieredGet)->Threads(1)->Threads(2)->UseRealTime();

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

// ---- L2 codec (MB/s of decoded bytes) ----

void BM_CacheL2Encode(benchmark::State& state, Compression c) {
  auto cp = RealisticEntry();
  CodecOptions o;
  o.compression = c;
  size_t out = 0;
  for (auto _ : state) {
    auto bytes = EncodeCheckpoint(*cp, Priority::kGeneral, o);
    out = bytes.size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(cp->bytes()));
  state.counters["ratio"] = static_cast<double>(cp->bytes()) / out;
}

void BM_CacheL2Decode(benchmark::State& state, Compression c) {
  auto cp = RealisticEntry();
  CodecOptions o;
  o.compression = c;
  auto bytes = EncodeCheckpoint(*cp, Priority::kGeneral, o);
  for (auto _ : state) {
    auto back = DecodeCheckpoint(bytes);
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(cp->bytes()));
}
BENCHMARK_CAPTURE(BM_CacheL2Encode, lz4, Compression::kLz4)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CacheL2Encode, zstd, Compression::kZstd)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CacheL2Decode, lz4, Compression::kLz4)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CacheL2Decode, zstd, Compression::kZstd)->Unit(benchmark::kMillisecond);

// ---- L3 (a directory under the temp dir; put = encode + write + fsync + rename + dir fsync) ----

std::string BenchDir(const char* what) {
  auto dir = std::filesystem::temp_directory_path() / ("dte-bench-" + std::string(what) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

void BM_CacheL3Put(benchmark::State& state) {
  std::string dir = BenchDir("l3");
  DiskTierOptions options;
  options.dir = dir;
  auto tier = DiskTier::Open(options);
  auto cp = RealisticEntry();
  auto encoded = std::make_shared<const std::vector<uint8_t>>(EncodeCheckpoint(*cp, Priority::kGeneral, {}));
  const bool pre_encoded = state.range(0) != 0;  // demoted from L2: already encoded
  uint64_t k = 0;
  std::vector<EvictedEntry> ev;
  for (auto _ : state) {
    ev.clear();
    TierEntry e = pre_encoded ? TierEntry{nullptr, Priority::kGeneral, encoded} : TierEntry{cp, Priority::kGeneral, nullptr};
    (void)(*tier)->Put(k++ % 16, std::move(e), &ev);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(cp->bytes()));
  tier->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CacheL3Put)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CacheL3Get(benchmark::State& state) {
  std::string dir = BenchDir("l3get");
  DiskTierOptions options;
  options.dir = dir;
  auto tier = DiskTier::Open(options);
  auto cp = RealisticEntry();
  std::vector<EvictedEntry> ev;
  for (uint64_t k = 0; k < 16; ++k) (void)(*tier)->Put(k, TierEntry{cp, Priority::kGeneral, nullptr}, &ev);
  uint64_t k = 0;
  for (auto _ : state) {
    auto e = (*tier)->Get(k++ % 16, /*take=*/false);  // read + checksum + decode (page cache warm)
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(cp->bytes()));
  tier->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CacheL3Get)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- Redis (loopback; skipped when redis-server is not installed) ----

class RedisChild {
 public:
  RedisChild() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    port_ = ntohs(addr.sin_port);
    dir_ = BenchDir("redis");
    std::filesystem::create_directories(dir_);
    std::vector<std::string> args = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--dir", dir_, "--loglevel", "warning"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "redis-server", &quiet, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&quiet);
    // Wait until it accepts connections (so the tier does not start with its breaker open).
    for (int i = 0; pid_ > 0 && i < 200; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      to.sin_port = htons(static_cast<uint16_t>(port_));
      bool up = ::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
      ::close(c);
      if (up) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~RedisChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  // A RedisTier connected to the child, or nullptr when it does not answer.
  std::unique_ptr<RedisTier> Tier() {
    if (pid_ <= 0) return nullptr;
    RedisTierOptions o;
    o.url = "redis://127.0.0.1:" + std::to_string(port_);
    o.command_timeout = std::chrono::milliseconds(2000);
    auto t = RedisTier::Open(o);
    if (t.ok() && (*t)->available()) return std::move(*t);
    return nullptr;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

// One server for all Redis benchmarks, killed at exit.
RedisChild& SharedRedis() {
  static RedisChild child;
  return child;
}

void BM_CacheRedis(benchmark::State& state, bool real, bool put) {
  auto tier = SharedRedis().Tier();
  if (!tier) {
    state.SkipWithError("redis-server not available");
    return;
  }
  auto cp = real ? RealisticEntry() : MakeEntry(64, 0);
  constexpr uint64_t kKeys = 64;
  for (uint64_t k = 0; k < kKeys; ++k) tier->Write(k, cp, Priority::kConversation, std::nullopt);
  uint64_t k = 0;
  for (auto _ : state) {
    if (put) {
      benchmark::DoNotOptimize(tier->Write(k++ % kKeys, cp, Priority::kConversation, std::nullopt));
    } else {
      auto e = tier->Get(k++ % kKeys);
      if (!e) state.SkipWithError("redis get missed");
      benchmark::DoNotOptimize(e);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(cp->bytes()));
}
// Another worker's admission path: the longest prefix of a 2,000-token prompt found in Redis
// (SMEMBERS for every block boundary in one pipeline, then GET + decode of a real-size state).
void BM_CacheRedisPrefixLookup(benchmark::State& state) {
  auto tier = SharedRedis().Tier();
  if (!tier) {
    state.SkipWithError("redis-server not available");
    return;
  }
  PrefixIndex index(32);
  std::vector<int32_t> prompt(2000);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i * 31 % 50000);
  auto base = RealisticEntry();
  for (size_t n = 256; n <= 1792; n += 256) {
    auto cp = std::make_shared<Checkpoint>(*base);
    cp->prefix.assign(prompt.begin(), prompt.begin() + n);
    cp->model_id.assign(1, 'm');  // (= "m" trips a GCC 12 -Wrestrict false positive)
    tier->Write(index.KeyOf("m", cp->prefix), cp, Priority::kGeneral, index.Locate("m", cp->prefix));
  }
  for (auto _ : state) {
    auto hit = tier->LookupPrefix(index, "m", prompt, 0);
    if (!hit || hit->tokens != 1792) state.SkipWithError("redis prefix lookup missed");
    benchmark::DoNotOptimize(hit);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheRedisPrefixLookup)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_CAPTURE(BM_CacheRedis, get_small, false, false)->UseRealTime();
BENCHMARK_CAPTURE(BM_CacheRedis, put_small, false, true)->UseRealTime();
BENCHMARK_CAPTURE(BM_CacheRedis, get_real_state, true, false)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CacheRedis, put_real_state, true, true)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace dte
