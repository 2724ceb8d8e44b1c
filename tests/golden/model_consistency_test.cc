// Serial vs sequence mode, state save/restore, and greedy continuations on the real tiny models.

#include <gtest/gtest.h>

#include <numeric>

#include "golden/golden_test_util.h"
#include "kernels/vector_ops.h"
#include "model/model.h"

namespace dte {
namespace {

using testing::MaxAbsDiff;
using testing::TinyModel;

const char* kStems[] = {"4v0-660K", "5v1-730K", "5v2-730K", "6v0-1m", "7v0-834K"};

std::vector<int32_t> TextTokens(const std::string& text) {  // byte-level vocab
  return std::vector<int32_t>(text.begin(), text.end());
}

std::shared_ptr<const Model> LoadOrDie(const std::string& path) {
  auto m = Model::Load(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

TEST(ModelConsistencyTest, SequenceModeMatchesSerialModeAcrossChunks) {
  // 300 tokens: crosses the 128-token chunk boundary of sequence mode twice.
  std::string text;
  while (text.size() < 300) text += "The quick brown fox jumps over the lazy dog. {\"in\": 1}\n";
  std::vector<int32_t> tokens = TextTokens(text.substr(0, 300));
  ThreadPool pool(2);
  for (const char* stem : kStems) {
    auto model = LoadOrDie(TinyModel(stem, "FP32"));
    ASSERT_NE(model, nullptr);
    State serial = model->NewState(), sequence = model->NewState();
    Scratch scratch;
    std::vector<float> a(256), b(256);
    model->ForwardSerial(tokens, serial, a.data(), scratch, nullptr);
    model->ForwardSequence(tokens, sequence, b.data(), scratch, &pool);
    EXPECT_LE(MaxAbsDiff(a, b), 1e-5f) << stem;
    std::vector<float> sa(serial.floats().begin(), serial.floats().end());
    std::vector<float> sb(sequence.floats().begin(), sequence.floats().end());
    // State magnitudes grow with the prompt (v4's aa/bb): compare relative to them.
    float scale = 1;
    for (float v : sa) if (std::fabs(v) < 1e29f) scale = std::max(scale, std::fabs(v));
    EXPECT_LE(MaxAbsDiff(sa, sb), 1e-5f * scale) << stem;
  }
}

// A batch of sequences in different phases (a long prefill that spans several passes, short
// prompts, single decode tokens) gives every sequence what it gets when run alone.
TEST(ModelConsistencyTest, BatchMatchesEachSequenceAlone) {
  const std::vector<std::string> prompts = {std::string(600, 'a') + "long prefill", "Hi", "x",
                                            "{\"input\": \"", "\n\n", "q"};
  ThreadPool pool(2);
  for (const char* stem : kStems) {
    auto model = LoadOrDie(TinyModel(stem, "FP32"));
    ASSERT_NE(model, nullptr);
    Scratch scratch;
    // Give each sequence some history first, so states differ.
    std::vector<State> alone, batched;
    std::vector<std::vector<int32_t>> tokens;
    for (size_t i = 0; i < prompts.size(); ++i) {
      State s = model->NewState();
      model->ForwardSequence(TextTokens("seq" + std::to_string(i)), s, nullptr, scratch, nullptr);
      alone.push_back(s);
      batched.push_back(s);
      tokens.push_back(TextTokens(prompts[i]));
    }
    std::vector<std::vector<float>> want(prompts.size(), std::vector<float>(256));
    std::vector<std::vector<float>> got(prompts.size(), std::vector<float>(256));
    std::vector<SequenceChunk> batch;
    for (size_t i = 0; i < prompts.size(); ++i) {
      model->ForwardSequence(tokens[i], alone[i], want[i].data(), scratch, nullptr);
      // Sequence 2 asks for no logits: the others must still get theirs.
      batch.push_back({tokens[i], &batched[i], i == 2 ? nullptr : got[i].data()});
    }
    model->ForwardBatch(batch, scratch, &pool);
    for (size_t i = 0; i < prompts.size(); ++i) {
      if (i != 2) {
        EXPECT_LE(MaxAbsDiff(want[i], got[i]), 1e-5f) << stem << " sequence " << i;
      }
      std::vector<float> a(alone[i].floats().begin(), alone[i].floats().end());
      std::vector<float> b(batched[i].floats().begin(), batched[i].floats().end());
      float scale = 1;
      for (float v : a) if (std::fabs(v) < 1e29f) scale = std::max(scale, std::fabs(v));
      EXPECT_LE(MaxAbsDiff(a, b), 1e-5f * scale) << stem << " state of sequence " << i;
    }
  }
}

TEST(ModelConsistencyTest, ReloadedStateContinuesIdentically) {
  for (const char* stem : kStems) {
    auto model = LoadOrDie(TinyModel(stem, "FP32"));
    ASSERT_NE(model, nullptr);
    Scratch scratch;
    State original = model->NewState();
    model->ForwardSequence(TextTokens("Hello, world"), original, nullptr, scratch, nullptr);
    std::vector<uint8_t> bytes = original.Serialize();
    auto restored = State::Deserialize(model->config(), bytes);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();

    std::vector<float> a(256), b(256);
    model->ForwardSequence(TextTokens(" again"), original, a.data(), scratch, nullptr);
    model->ForwardSequence(TextTokens(" again"), *restored, b.data(), scratch, nullptr);
    EXPECT_EQ(a, b) << stem;  // bit-identical: same floats in, same code
  }
}

TEST(ModelConsistencyTest, StateOfAnotherModelIsRefused) {
  auto v5 = LoadOrDie(TinyModel("5v2-730K", "FP32"));
  auto v7 = LoadOrDie(TinyModel("7v0-834K", "FP32"));
  ASSERT_TRUE(v5 && v7);
  auto bytes = v5->NewState().Serialize();
  auto s = State::Deserialize(v7->config(), bytes);
  EXPECT_FALSE(s.ok());
  bytes.resize(bytes.size() - 1);
  EXPECT_EQ(State::Deserialize(v5->config(), bytes).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(State::Deserialize(v5->config(), std::span<const uint8_t>(bytes.data(), 7)).status().code(),
            StatusCode::kCorrupt);
}

std::string GreedyContinuation(const Model& model, const std::string& prompt, int n) {
  Scratch scratch;
  State state = model.NewState();
  std::vector<float> logits(static_cast<size_t>(model.config().n_vocab));
  model.ForwardSequence(TextTokens(prompt), state, logits.data(), scratch, nullptr);
  std::string out;
  for (int i = 0; i < n; ++i) {
    int32_t next = static_cast<int32_t>(ArgMax(logits.data(), model.config().n_vocab));
    out.push_back(static_cast<char>(next));
    model.ForwardSequence(std::span<const int32_t>(&next, 1), state, logits.data(), scratch, nullptr);
  }
  return out;
}

// Continuations of `"in` from the float64 reference (models/tiny/README.md).
TEST(ModelConsistencyTest, GreedyContinuationsMatchReference) {
  struct Case { const char* stem; const char* expected; };
  for (Case c : {Case{"4v0-660K", "s the the the the the th"}, Case{"5v1-730K", "put\": \"\",\n        \"outpu"},
                 Case{"5v2-730K", "put\": \"\",\n        \"outpu"}, Case{"7v0-834K", " the the the the the the"}}) {
    auto model = LoadOrDie(TinyModel(c.stem, "FP32"));
    ASSERT_NE(model, nullptr);
    std::string expected = c.expected;
    EXPECT_EQ(GreedyContinuation(*model, "\"in", static_cast<int>(expected.size())), expected) << c.stem;
  }
}

}  // namespace
}  // namespace dte
