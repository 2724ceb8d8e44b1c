// A real state from each tiny model, stored in and fetched from each tier, continues generation
// with the logits of an uninterrupted run (lossless: bit-identical); the lossy fp16/bf16 modes are
// measured (numbers in docs/state_cache.md).

#include <gtest/gtest.h>

#include <cstdio>

#include "cache/cache_test_util.h"
#include "cache/tiered_cache.h"
#include "golden/golden_test_util.h"
#include "model/model.h"

namespace dte {
namespace {

const char* kStems[] = {"4v0-660K", "5v1-730K", "5v2-730K", "6v0-1m", "7v0-834K"};

std::vector<int32_t> Text(const std::string& s) { return std::vector<int32_t>(s.begin(), s.end()); }

const std::string kPrompt = "The quick brown fox jumps over the lazy dog. {\"input\": \"";
const std::string kContinuation = "hello world\", \"output\": \"";

struct PromptRun {
  std::vector<float> prefix_logits, final_logits;
  Checkpoint checkpoint;
};

PromptRun RunPrompt(const Model& model) {
  PromptRun r;
  Scratch scratch;
  State state = model.NewState();
  r.prefix_logits.resize(model.config().n_vocab);
  model.ForwardSerial(Text(kPrompt), state, r.prefix_logits.data(), scratch, nullptr);
  r.checkpoint.state = state.Serialize();
  r.checkpoint.logits = r.prefix_logits;
  r.final_logits.resize(model.config().n_vocab);
  model.ForwardSerial(Text(kContinuation), state, r.final_logits.data(), scratch, nullptr);
  return r;
}

std::vector<float> Continue(const Model& model, const Checkpoint& cp, const std::string& text = kContinuation) {
  auto state = State::Deserialize(model.config(), cp.state);
  EXPECT_TRUE(state.ok()) << state.status().ToString();
  if (!state.ok()) return {};
  Scratch scratch;
  std::vector<float> logits(model.config().n_vocab);
  model.ForwardSerial(Text(text), *state, logits.data(), scratch, nullptr);
  return logits;
}

TEST(GoldenCacheTest, ResumeFromEachTierIsBitExact) {
  for (const char* stem : kStems) {
    auto model = Model::Load(testing::TinyModel(stem, "FP32"));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    PromptRun run = RunPrompt(**model);
    // After one token the logits depend strongly on the state (the tiny models forget within ~25).
    std::vector<float> exact1 = Continue(**model, run.checkpoint, "h");
    auto prompt = Text(kPrompt + kContinuation);
    size_t prefix_len = kPrompt.size();
    // Tier 0: L1; tier 1: L2 (L1 pushed out by a second entry); tier 2: L3 after a restart.
    for (int tier = 0; tier < 3; ++tier) {
      testing::TempDir dir;
      TieredCacheOptions o;
      o.l1.capacity_bytes = run.checkpoint.bytes() + prefix_len * 4 + 200;
      o.l1.shards = 1;
      o.l2.capacity_bytes = tier == 2 ? 1 : 64 << 20;
      o.l2.codec.compression = tier == 1 ? Compression::kZstd : Compression::kLz4;
      o.l3 = DiskTierOptions{};
      o.l3->dir = dir.path;
      o.l3_admit_all = true;
      {
        auto cache = TieredCache::Open(o);
        ASSERT_TRUE(cache.ok());
        (*cache)->PutPrefix("tiny-" + std::string(stem), std::span(prompt).first(prefix_len), run.checkpoint);
        if (tier > 0) (*cache)->Put(12345, std::make_shared<const Checkpoint>(testing::MakeCheckpoint(1)), Priority::kGeneral);
        if (tier < 2) {
          auto hit = (*cache)->LookupPrefix("tiny-" + std::string(stem), prompt);
          ASSERT_TRUE(hit) << stem << " tier " << tier;
          EXPECT_EQ(hit->tokens, static_cast<int64_t>(prefix_len));
          EXPECT_EQ((*cache)->Stats().tiers[tier].hits, 1) << stem << " tier " << tier;
          EXPECT_EQ(hit->checkpoint->logits, run.prefix_logits);
          EXPECT_EQ(Continue(**model, *hit->checkpoint), run.final_logits) << stem << " tier " << tier;
          EXPECT_EQ(Continue(**model, *hit->checkpoint, "h"), exact1) << stem << " tier " << tier;
          continue;
        }
      }
      auto cache = TieredCache::Open(o);  // restart
      ASSERT_TRUE(cache.ok());
      auto hit = (*cache)->LookupPrefix("tiny-" + std::string(stem), prompt);
      ASSERT_TRUE(hit) << stem << " after restart";
      EXPECT_EQ((*cache)->Stats().tiers[2].hits, 1);
      EXPECT_EQ(hit->checkpoint->logits, run.prefix_logits);
      EXPECT_EQ(Continue(**model, *hit->checkpoint), run.final_logits) << stem << " after restart";
      EXPECT_EQ(Continue(**model, *hit->checkpoint, "h"), exact1) << stem << " after restart";
    }
  }
}

TEST(GoldenCacheTest, LossyModesMeasured) {
  for (const char* stem : kStems) {
    auto model = Model::Load(testing::TinyModel(stem, "FP32"));
    ASSERT_TRUE(model.ok());
    PromptRun run = RunPrompt(**model);
    // The tiny models forget fast, so measure right after one more token as well as after 25.
    Checkpoint fresh = run.checkpoint;
    fresh.state = (*model)->NewState().Serialize();
    const std::string one = "h";
    std::vector<float> exact1 = Continue(**model, run.checkpoint, one);
    std::printf("%-9s state dependence (fresh state instead): max|dlogit| 1 token %.3g, 25 tokens %.3g\n", stem,
                testing::MaxAbsDiff(Continue(**model, fresh, one), exact1),
                testing::MaxAbsDiff(Continue(**model, fresh), run.final_logits));
    for (auto mode : {LossyFloat::kFp16, LossyFloat::kBf16}) {
      CodecOptions o;
      o.lossy = mode;
      auto bytes = EncodeCheckpoint(run.checkpoint, Priority::kGeneral, o);
      auto back = DecodeCheckpoint(bytes);
      ASSERT_TRUE(back.ok());
      float err1 = testing::MaxAbsDiff(Continue(**model, back->checkpoint, one), exact1);
      auto logits = Continue(**model, back->checkpoint);
      float err = testing::MaxAbsDiff(logits, run.final_logits);
      auto argmax = [](const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); };
      std::printf("lossy %-4s %-9s state %7zu B -> %6zu B  max|dlogit| 1 token %.3g, 25 tokens %.3g  argmax %s\n",
                  mode == LossyFloat::kFp16 ? "fp16" : "bf16", stem, run.checkpoint.state.size(), bytes.size(),
                  err1, err, argmax(logits) == argmax(run.final_logits) ? "same" : "DIFFERENT");
      EXPECT_TRUE(std::isfinite(err1)) << stem;
      EXPECT_LT(err1, 0.1f) << stem;
      EXPECT_LT(err, 0.1f) << stem;
    }
  }
}

}  // namespace
}  // namespace dte
