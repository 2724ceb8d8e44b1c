// The engine with a state cache, on a real tiny RWKV-5.2 model (FP32; the tiny v7 model greedily
// writes " the the the" whatever its state, which would hide a wrong state): a prompt resumed from
// a cached prefix checkpoint — from L1, L2 and L3 — gives the same greedy tokens as a full
// recompute, and the logits after resuming match it within 1e-5; a whole-prompt hit samples its
// first token from the cached logits without a forward pass; sessions evicted to the cache (idle
// TTL, max_sessions, shutdown + restart, another engine sharing the cache) continue identically.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "engine/engine.h"
#include "golden/golden_test_util.h"
#include "kernels/vector_ops.h"

namespace dte {
namespace {

using namespace std::chrono_literals;

constexpr int kVocab = 256;

std::vector<int32_t> Bytes(const std::string& s) {
  return std::vector<int32_t>(s.begin(), s.end());
}

struct Output {
  std::string text;
  Completion completion;
};

Output Collect(const std::shared_ptr<TokenChannel>& ch) {
  Output out;
  std::vector<TokenPiece> pieces;
  while (true) {
    std::optional<Completion> c = ch->WaitAndDrain(&pieces, 1000ms);
    for (auto& p : pieces) out.text += p.text;
    pieces.clear();
    if (c) {
      out.completion = *c;
      return out;
    }
  }
}

GenerationRequest Greedy(const std::vector<int32_t>& prompt, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt_tokens = prompt;
  r.sampling.temperature = 0;
  r.max_tokens = max_tokens;
  return r;
}

// Full recompute: the logits after `prompt` from a fresh state, token by token (serial mode).
std::vector<float> LogitsAlone(const Model& model, const std::vector<int32_t>& prompt) {
  Scratch scratch;
  State state = model.NewState();
  std::vector<float> logits(kVocab);
  model.ForwardSequence(prompt, state, logits.data(), scratch, nullptr);
  return logits;
}

std::string GreedyAlone(const Model& model, const std::vector<int32_t>& prompt, int n) {
  Scratch scratch;
  State state = model.NewState();
  std::vector<float> logits(kVocab);
  model.ForwardSequence(prompt, state, logits.data(), scratch, nullptr);
  std::string out;
  for (int i = 0; i < n; ++i) {
    int32_t t = static_cast<int32_t>(ArgMax(logits.data(), kVocab));
    out.push_back(static_cast<char>(t));
    if (i + 1 < n)
      model.ForwardSequence(std::span<const int32_t>(&t, 1), state, logits.data(), scratch,
                            nullptr);
  }
  return out;
}

// Counts the tokens that went through the model.
class TokenCounter : public EngineObserver {
 public:
  void OnStep(int64_t, int64_t tokens, double) override { tokens_ += tokens; }
  int64_t tokens() const { return tokens_.load(); }

 private:
  std::atomic<int64_t> tokens_{0};
};

const std::string kSystem =
    "System: You are a careful assistant. Answer in one short sentence, quote your sources, and "
    "never "
    "invent facts. The user is asking about the weather in a small town by the sea.\n\n";

enum class Tier { kL1, kL2, kL3 };

class EngineCacheTest : public ::testing::TestWithParam<Tier> {
 protected:
  void SetUp() override {
    auto m = Model::Load(testing::TinyModel("5v2-730K", "FP32"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = *m;
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() /
           ("dte_engine_cache_" + std::to_string(getpid()) + "_" + name);
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    engine_.reset();
    cache_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A cache whose budgets leave entries in `tier` (what does not fit a tier falls to the next).
  std::shared_ptr<TieredCache> OpenCache(Tier tier) {
    TieredCacheOptions o;
    o.l1.capacity_bytes = tier == Tier::kL1 ? 64u << 20 : 0;
    o.l2.capacity_bytes = tier == Tier::kL3 ? 0 : 64u << 20;
    if (tier == Tier::kL3) {
      o.l3 = DiskTierOptions{};
      o.l3->dir = dir_.string();
      o.l3_admit_all =
          true;  // the doorkeeper has its own tests; here every checkpoint goes to disk
    }
    auto c = TieredCache::Open(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::shared_ptr<TieredCache>(std::move(*c));
  }

  static std::shared_ptr<TieredCache> RamCache() {
    auto c = TieredCache::Open(TieredCacheOptions{});
    EXPECT_TRUE(c.ok());
    return std::shared_ptr<TieredCache>(std::move(*c));
  }

  void Start(std::shared_ptr<TieredCache> cache, EngineOptions options = {}) {
    cache_ = cache;
    options.threads = 2;
    options.cache.cache = cache;
    options.cache.model_id = "tiny-5v2";
    engine_ = std::make_unique<Engine>(
        model_, std::shared_ptr<const Tokenizer>(MakeByteTokenizer()), options, &counter_);
  }
  void Restart(EngineOptions options = {}) {
    engine_.reset();
    cache_.reset();
    Start(OpenCache(GetParam()), options);
  }

  Output Run(GenerationRequest r) {
    auto ch = std::make_shared<TokenChannel>();
    Status s = engine_->Submit(std::move(r), ch);
    EXPECT_TRUE(s.ok()) << s.ToString();
    Output out = Collect(ch);
    engine_->cache()->Drain();  // its checkpoints are in the cache before the next request
    return out;
  }

  // Hits so far in the tier where entries of this test live.
  int64_t TierHits() {
    CacheStats s = cache_->Stats();
    const size_t level = GetParam() == Tier::kL1 ? 0 : GetParam() == Tier::kL2 ? 1 : 2;
    EXPECT_LT(level, s.tiers.size());
    return level < s.tiers.size() ? s.tiers[level].hits : 0;
  }

  std::shared_ptr<const Model> model_;
  std::filesystem::path dir_;
  TokenCounter counter_;
  std::shared_ptr<TieredCache> cache_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineCacheTest, ResumedPrefixGivesTheSameTokensAndLogitsAsAFullRecompute) {
  Start(OpenCache(GetParam()));
  const std::vector<int32_t> system = Bytes(kSystem + "User: Will it rain tomorrow?\n\nAssistant");
  Output first = Run(Greedy(system, 0));  // prefill only: checkpoint at its end
  EXPECT_EQ(first.completion.usage.cached_tokens, 0);
  if (GetParam() == Tier::kL3) Restart();  // from disk, in a new cache and engine

  // One token after the checkpoint: these tiny models forget a wrong state within ~25 tokens,
  // so the first tokens after resuming are the ones that show whether the state was right.
  const std::vector<int32_t> prompt = Bytes(kSystem + "User: Will it rain tomorrow?\n\nAssistant:");
  const int64_t hits_before = TierHits();
  Output resumed = Run(Greedy(prompt, 24));
  EXPECT_EQ(resumed.completion.usage.cached_tokens, static_cast<int64_t>(system.size()));
  EXPECT_EQ(resumed.completion.usage.prefix_hit_tokens, static_cast<int64_t>(system.size()));
  EXPECT_EQ(resumed.completion.usage.prompt_tokens, static_cast<int64_t>(prompt.size()));
  EXPECT_GT(TierHits(), hits_before);
  EXPECT_EQ(resumed.text, GreedyAlone(*model_, prompt, 24));

  // The logits after resuming from the checkpoint equal a full recompute's within 1e-5.
  const std::vector<int32_t> other = Bytes(kSystem + "User: Will it rain tomorrow?\n\nAssistant,");
  std::optional<EngineCache::Resume> hit = engine_->cache()->LookupPrefix(other);
  ASSERT_TRUE(hit);
  ASSERT_EQ(hit->tokens, static_cast<int64_t>(system.size()));
  Scratch scratch;
  std::vector<float> logits(kVocab);
  model_->ForwardSequence(std::span<const int32_t>(other).subspan(system.size()), hit->state,
                          logits.data(), scratch, nullptr);
  EXPECT_LE(testing::MaxAbsDiff(logits, LogitsAlone(*model_, other)), 1e-5f);
}

TEST_P(EngineCacheTest, WholePromptHitSamplesTheFirstTokenFromCachedLogits) {
  Start(OpenCache(GetParam()));
  const std::vector<int32_t> prompt = Bytes(kSystem + "User: Hello!\n\nAssistant:");
  Output cold = Run(Greedy(prompt, 12));
  if (GetParam() == Tier::kL3) Restart();

  std::optional<EngineCache::Resume> hit = engine_->cache()->LookupPrefix(prompt);
  ASSERT_TRUE(hit);
  ASSERT_EQ(hit->tokens, static_cast<int64_t>(prompt.size()));
  EXPECT_LE(testing::MaxAbsDiff(hit->logits, LogitsAlone(*model_, prompt)), 1e-5f);

  const int64_t tokens_before = counter_.tokens();
  Output warm = Run(Greedy(prompt, 12));
  EXPECT_EQ(warm.text, cold.text);
  EXPECT_EQ(warm.text, GreedyAlone(*model_, prompt, 12));
  EXPECT_EQ(warm.completion.usage.cached_tokens, static_cast<int64_t>(prompt.size()));
  // No prompt token went through the model: only the 11 sampled tokens fed back.
  EXPECT_EQ(counter_.tokens() - tokens_before, 11);
}

INSTANTIATE_TEST_SUITE_P(Tiers, EngineCacheTest, ::testing::Values(Tier::kL1, Tier::kL2, Tier::kL3),
                         [](const auto& info) {
                           return std::string(info.param == Tier::kL1   ? "L1"
                                              : info.param == Tier::kL2 ? "L2"
                                                                        : "L3");
                         });

class EngineCachePolicyTest : public EngineCacheTest {};

TEST_F(EngineCachePolicyTest, LongPromptsAreCheckpointedEveryKTokensAndAtTurnBoundaries) {
  EngineOptions options;
  options.cache.checkpoint_interval = 64;
  options.prefill_chunk = 50;  // chunks that do not line up with the checkpoints
  Start(RamCache(), options);
  const std::vector<int32_t> prompt = Bytes(kSystem + "User: What about the wind?\n\nAssistant:");
  GenerationRequest r = Greedy(prompt, 4);
  r.checkpoint_offsets = {static_cast<int64_t>(kSystem.size())};
  Run(r);
  // Every checkpoint is a resume point: K, 2K, the turn boundary, the end of the prompt.
  for (size_t expected : {size_t{64}, size_t{128}, kSystem.size(), prompt.size()}) {
    std::vector<int32_t> probe(prompt.begin(),
                               prompt.begin() + static_cast<std::ptrdiff_t>(expected));
    probe.push_back('#');
    std::optional<EngineCache::Resume> hit = engine_->cache()->LookupPrefix(probe);
    ASSERT_TRUE(hit) << expected;
    EXPECT_EQ(hit->tokens, static_cast<int64_t>(expected));
    std::vector<float> logits(kVocab);
    Scratch scratch;
    model_->ForwardSequence(std::span<const int32_t>(probe).subspan(expected), hit->state,
                            logits.data(), scratch, nullptr);
    EXPECT_LE(testing::MaxAbsDiff(logits, LogitsAlone(*model_, probe)), 1e-5f) << expected;
  }
  EXPECT_EQ(engine_->Stats().cache->checkpoints, 5);  // 64, 128, 192, the turn, the end
}

std::string TurnOf(Engine& engine, const std::string& id, const std::string& text, int n,
                   Output* out) {
  GenerationRequest r = Greedy(Bytes(text), n);
  r.session_id = id;
  auto ch = std::make_shared<TokenChannel>();
  Status s = engine.Submit(std::move(r), ch);
  EXPECT_TRUE(s.ok()) << s.ToString();
  *out = Collect(ch);
  return out->text;
}

TEST_F(EngineCachePolicyTest, SessionsSharingASystemPromptStartFromItsCheckpoint) {
  Start(RamCache());
  Output setup[2], turn[2];
  std::string text[2];
  for (int i = 0; i < 2; ++i) {
    auto id = engine_->sessions().Create(model_->NewState());
    ASSERT_TRUE(id.ok());
    TurnOf(*engine_, *id, kSystem, 0, &setup[i]);  // the system prompt, prefill only
    engine_->cache()->Drain();
    text[i] = TurnOf(*engine_, *id, "User: Hi\n\nAssistant:", 8, &turn[i]);
    EXPECT_EQ(engine_->sessions().Get(*id)->tokens, static_cast<int64_t>(kSystem.size()) + 20 + 8);
  }
  EXPECT_EQ(setup[0].completion.usage.cached_tokens, 0);
  EXPECT_EQ(setup[1].completion.usage.cached_tokens, static_cast<int64_t>(kSystem.size()));
  EXPECT_EQ(text[1], text[0]);
  EXPECT_EQ(text[1], GreedyAlone(*model_, Bytes(kSystem + "User: Hi\n\nAssistant:"), 8));
}

TEST_F(EngineCachePolicyTest, SessionEvictedForRoomIsRestoredAndContinuesIdentically) {
  EngineOptions options;
  options.sessions.max_sessions = 1;
  Start(RamCache(), options);
  auto a = engine_->sessions().Create(model_->NewState());
  ASSERT_TRUE(a.ok());
  Output o1, o2;
  const std::string t1 = TurnOf(*engine_, *a, "\"in", 8, &o1);
  auto b = engine_->sessions().Create(model_->NewState());  // evicts a into the cache
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(engine_->sessions().Get(*a));
  engine_->cache()->Drain();  // in the cache itself, not only in the write queue
  std::optional<SessionInfo> restored = engine_->FindSession(*a);  // evicts b, restores a
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->turns, 1);
  EXPECT_EQ(restored->tokens, 3 + 8);
  EXPECT_FALSE(engine_->sessions().Get(*b));
  const std::string t2 = TurnOf(*engine_, *a, "\nAnd then", 8, &o2);
  EXPECT_EQ(t2, GreedyAlone(*model_, Bytes("\"in" + t1 + "\nAnd then"), 8));
  EXPECT_EQ(o2.completion.usage.cached_tokens, 3 + 7);
  EXPECT_EQ(engine_->sessions().Get(*a)->turns, 2);
  // b went to the cache in turn and is still there.
  EXPECT_TRUE(engine_->FindSession(*b));
  EXPECT_GE(engine_->Stats().cache->sessions_restored, 2);
}

TEST_F(EngineCachePolicyTest, ExpiredSessionMovesToTheCacheAndDeleteRemovesItEverywhere) {
  EngineOptions options;
  options.sessions.idle_ttl = 0s;
  Start(RamCache(), options);
  auto a = engine_->sessions().Create(model_->NewState());
  Output o1;
  TurnOf(*engine_, *a, "\"in", 4, &o1);
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(engine_->sessions().ExpireIdle(), 1u);
  EXPECT_TRUE(engine_->DeleteSession(*a).ok());
  EXPECT_FALSE(engine_->FindSession(*a));
  EXPECT_EQ(engine_->DeleteSession(*a).code(), StatusCode::kNotFound);
}

TEST_F(EngineCachePolicyTest, SessionsSurviveARestartThroughTheDiskTier) {
  Start(OpenCache(Tier::kL3));
  auto a = engine_->sessions().Create(model_->NewState());
  Output o1, o2;
  const std::string t1 = TurnOf(*engine_, *a, "\"in", 6, &o1);
  engine_->Shutdown();  // writes the idle session to the cache
  engine_.reset();
  cache_.reset();
  Start(OpenCache(Tier::kL3));
  std::optional<SessionInfo> info = engine_->FindSession(*a);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->turns, 1);
  const std::string t2 = TurnOf(*engine_, *a, "\nok", 6, &o2);
  EXPECT_EQ(t2, GreedyAlone(*model_, Bytes("\"in" + t1 + "\nok"), 6));
}

TEST_F(EngineCachePolicyTest, ShutdownFlushesPrefixesAndSessionsFromRamToDisk) {
  TieredCacheOptions o;  // roomy RAM tiers: nothing reaches disk before the flush
  o.l3 = DiskTierOptions{};
  o.l3->dir = dir_.string();
  auto opened = TieredCache::Open(o);
  ASSERT_TRUE(opened.ok());
  Start(std::shared_ptr<TieredCache>(std::move(*opened)));
  const std::vector<int32_t> prompt = Bytes(kSystem + "User: Hi\n\nAssistant:");
  Output cold = Run(Greedy(prompt, 10));
  auto a = engine_->sessions().Create(model_->NewState());
  Output o1, o2;
  const std::string t1 = TurnOf(*engine_, *a, "\"in", 6, &o1);
  EXPECT_EQ(cache_->Stats().tiers[2].entries, 0);
  engine_->Shutdown();
  engine_.reset();
  cache_.reset();

  opened = TieredCache::Open(o);
  ASSERT_TRUE(opened.ok());
  Start(std::shared_ptr<TieredCache>(std::move(*opened)));
  EXPECT_GE(cache_->Stats().tiers[2].entries, 2);
  Output warm = Run(Greedy(prompt, 10));
  EXPECT_EQ(warm.completion.usage.cached_tokens, static_cast<int64_t>(prompt.size()));
  EXPECT_EQ(warm.text, cold.text);
  ASSERT_TRUE(engine_->FindSession(*a));
  const std::string t2 = TurnOf(*engine_, *a, "\nok", 6, &o2);
  EXPECT_EQ(t2, GreedyAlone(*model_, Bytes("\"in" + t1 + "\nok"), 6));
}

TEST_F(EngineCachePolicyTest, WriteThroughLetsAnotherEngineContinueTheSession) {
  auto shared = RamCache();  // stands in for Redis
  EngineOptions options;
  options.cache.session_write_through = true;
  Start(shared, options);
  auto a = engine_->sessions().Create(model_->NewState());
  Output o1, o2;
  const std::string t1 = TurnOf(*engine_, *a, "\"in", 6, &o1);
  engine_->cache()->Drain();
  options.threads = 2;
  options.cache.cache = shared;
  options.cache.model_id = "tiny-5v2";
  Engine other(model_, std::shared_ptr<const Tokenizer>(MakeByteTokenizer()), options);
  ASSERT_TRUE(other.FindSession(*a));
  const std::string t2 = TurnOf(other, *a, "\nok", 6, &o2);
  EXPECT_EQ(t2, GreedyAlone(*model_, Bytes("\"in" + t1 + "\nok"), 6));
  EXPECT_EQ(other.sessions().Get(*a)->turns, 2);
  // Back on the first engine, which still holds turn 1's state: it takes the newer shared copy.
  Output o3;
  const std::string t3 = TurnOf(*engine_, *a, " and", 6, &o3);
  EXPECT_EQ(t3, GreedyAlone(*model_, Bytes("\"in" + t1 + "\nok" + t2 + " and"), 6));
  EXPECT_EQ(engine_->sessions().Get(*a)->turns, 3);
  EXPECT_EQ(o3.completion.usage.cached_tokens, 3 + 6 + 3 + 5);
}

TEST_F(EngineCachePolicyTest, PrefixesOfAnotherModelIdAreNotUsed) {
  auto shared = RamCache();
  Start(shared);
  const std::vector<int32_t> prompt = Bytes(kSystem);
  Run(Greedy(prompt, 2));
  EngineOptions options;
  options.threads = 2;
  options.cache.cache = shared;
  options.cache.model_id = "another-model";
  Engine other(model_, std::shared_ptr<const Tokenizer>(MakeByteTokenizer()), options);
  EXPECT_FALSE(other.cache()->LookupPrefix(prompt));
  EXPECT_TRUE(engine_->cache()->LookupPrefix(prompt));
}

}  // namespace
}  // namespace dte
