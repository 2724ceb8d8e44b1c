// Golden tests: our forward pass against the reference logits shipped with the tiny models.

#include <gtest/gtest.h>

#include "golden/golden_test_util.h"
#include "model/model.h"

namespace dte {
namespace {

using testing::ExpectedLogits;
using testing::MaxAbsDiff;
using testing::TinyModel;

struct GoldenCase {
  std::string stem, type;
  float tolerance;
};

std::string CaseName(const ::testing::TestParamInfo<std::tuple<GoldenCase, bool>>& info) {
  std::string n = std::get<0>(info.param).stem + "_" + std::get<0>(info.param).type +
                  (std::get<1>(info.param) ? "_sequence" : "_serial");
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

class GoldenLogitsTest : public ::testing::TestWithParam<std::tuple<GoldenCase, bool>> {};

TEST_P(GoldenLogitsTest, MatchesReferenceAfterPrompt) {
  const auto& [c, sequence] = GetParam();
  auto model = Model::Load(TinyModel(c.stem, c.type));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<float> expected = ExpectedLogits(c.stem);
  ASSERT_EQ(expected.size(), 256u);
  const int32_t prompt[] = {34, 105, 110};  // `"in`
  State state = (*model)->NewState();
  Scratch scratch;
  std::vector<float> logits(256);
  ThreadPool pool(2);
  if (sequence) {
    (*model)->ForwardSequence(prompt, state, logits.data(), scratch, &pool);
  } else {
    (*model)->ForwardSerial(prompt, state, logits.data(), scratch, nullptr);
  }
  EXPECT_LE(MaxAbsDiff(logits, expected), c.tolerance);
}

// FP32 of every version and FP16 of v6/v7 (whose weights are exact in bf16): 1e-4.
// Quantized files: 0.3 (the reference is the float model).
INSTANTIATE_TEST_SUITE_P(
    Tiny, GoldenLogitsTest,
    ::testing::Combine(::testing::Values(GoldenCase{"4v0-660K", "FP32", 1e-4f},
                                         GoldenCase{"5v1-730K", "FP32", 1e-4f},
                                         GoldenCase{"5v2-730K", "FP32", 1e-4f},
                                         GoldenCase{"6v0-1m", "FP32", 1e-4f},
                                         GoldenCase{"7v0-834K", "FP32", 1e-4f},
                                         GoldenCase{"6v0-1m", "FP16", 1e-4f},
                                         GoldenCase{"7v0-834K", "FP16", 1e-4f},
                                         GoldenCase{"6v0-3m", "Q5_0", 0.3f},
                                         GoldenCase{"6v0-3m", "Q5_1", 0.3f},
                                         GoldenCase{"7v0-834K", "Q5_0", 0.3f},
                                         GoldenCase{"7v0-834K", "Q5_1", 0.3f}),
                       ::testing::Bool()),
    CaseName);

// FP16 of v4/v5 stores weights that are not exact in half precision: the error is the
// rounding of the weights, measured here so a regression in the F16 path still shows.
TEST(GoldenLogitsTest, Fp16OfOlderVersionsStaysClose) {
  for (std::string stem : {"4v0-660K", "5v1-730K", "5v2-730K"}) {
    auto model = Model::Load(TinyModel(stem, "FP16"));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    const int32_t prompt[] = {34, 105, 110};
    State state = (*model)->NewState();
    Scratch scratch;
    std::vector<float> logits(256);
    (*model)->ForwardSequence(prompt, state, logits.data(), scratch, nullptr);
    EXPECT_LE(MaxAbsDiff(logits, ExpectedLogits(stem)), 0.01f) << stem;
  }
}

}  // namespace
}  // namespace dte
