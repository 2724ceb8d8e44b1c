// The scheduler's batch rules (batch_planner.h) and its step cost model (step_cost.h).

#include "engine/batch_planner.h"

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "engine/step_cost.h"

namespace dte {
namespace {

PlanCandidate Decode() { return PlanCandidate{true, 0}; }
PlanCandidate Prompt(int64_t left) { return PlanCandidate{false, left}; }

TEST(BatchPlannerTest, EverythingRunsWhenItFits) {
  std::vector<PlanCandidate> c = {Decode(), Prompt(100), Decode(), Prompt(30)};
  PlanOptions o;
  o.token_budget = 1000;
  std::vector<int64_t> takes;
  PlanBatch(c, o, &takes);
  EXPECT_EQ(takes, (std::vector<int64_t>{1, 100, 1, 30}));
}

// A batch full of decodes (the budget is spent on them) still starts a new prompt at once,
// and every decode advances in the same step.
TEST(BatchPlannerTest, NewPromptRunsInTheNextStepWhenTheBatchIsFullOfDecodes) {
  std::vector<PlanCandidate> c(64, Decode());
  c.push_back(Prompt(100));
  PlanOptions o;
  o.token_budget = 64;
  o.prefill_floor = 16;
  std::vector<int64_t> takes;
  PlanBatch(c, o, &takes);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(takes[i], 1) << i;
  EXPECT_EQ(takes[64], 16);
}

TEST(BatchPlannerTest, PromptsShareTheBudgetOldestFirstWithAChunkCap) {
  std::vector<PlanCandidate> c = {Prompt(5000), Prompt(300), Decode(), Prompt(300), Prompt(10)};
  PlanOptions o;
  o.token_budget = 1 + 1000 + 200;
  o.chunk_cap = 1000;
  std::vector<int64_t> takes;
  PlanBatch(c, o, &takes);
  // 1 decode; the oldest prompt is capped at 1000; the next gets the 200 left; none after.
  EXPECT_EQ(takes, (std::vector<int64_t>{1000, 200, 1, 0, 0}));
}

TEST(BatchPlannerTest, DecodesNeverWaitForPrompts) {
  // Many long prompts and a small budget: every decode still runs, every step.
  std::vector<PlanCandidate> c;
  for (int i = 0; i < 10; ++i) c.push_back(Prompt(10000));
  for (int i = 0; i < 8; ++i) c.push_back(Decode());
  PlanOptions o;
  o.token_budget = 8;
  o.prefill_floor = 4;
  std::vector<int64_t> takes;
  PlanBatch(c, o, &takes);
  for (int i = 10; i < 18; ++i) EXPECT_EQ(takes[i], 1);
  EXPECT_EQ(takes[0], 4);  // the floor keeps the oldest prompt moving
  for (int i = 1; i < 10; ++i) EXPECT_EQ(takes[i], 0);
}

TEST(BatchPlannerTest, FloorIsCappedByTheChunkAndThePrompt) {
  std::vector<PlanCandidate> c = {Decode(), Decode(), Prompt(3)};
  PlanOptions o;
  o.token_budget = 1;
  o.prefill_floor = 256;
  o.chunk_cap = 2;
  std::vector<int64_t> takes;
  PlanBatch(c, o, &takes);
  EXPECT_EQ(takes, (std::vector<int64_t>{1, 1, 2}));
}

TEST(StepCostModelTest, LearnsFixedAndPerTokenCost) {
  StepCostModel m;
  EXPECT_EQ(m.TokensWithin(0.1, 256, 65536), 256);  // nothing known yet
  for (int i = 0; i < 64; ++i) {
    const int64_t tokens = 10 + (i % 8) * 100;
    m.Observe(tokens, 0.010 + 0.0001 * static_cast<double>(tokens));
  }
  EXPECT_NEAR(m.fixed_seconds(), 0.010, 1e-6);
  EXPECT_NEAR(m.seconds_per_token(), 0.0001, 1e-9);
  EXPECT_NEAR(static_cast<double>(m.TokensWithin(0.110, 1, 65536)), 1000, 1);
  EXPECT_EQ(m.TokensWithin(0.005, 64, 65536), 64);     // not even the fixed part: the floor
  EXPECT_EQ(m.TokensWithin(100.0, 64, 4096), 4096);    // the ceiling
}

TEST(StepCostModelTest, SameSizedStepsGiveAProportionalFit) {
  StepCostModel m;
  for (int i = 0; i < 16; ++i) m.Observe(200, 0.02);
  EXPECT_EQ(m.fixed_seconds(), 0);
  EXPECT_NEAR(m.seconds_per_token(), 0.0001, 1e-9);
  EXPECT_NEAR(static_cast<double>(m.TokensWithin(0.05, 1, 65536)), 500, 1);
}

TEST(StepCostModelTest, FollowsAChangeInSpeed) {
  StepCostModel m(8);
  for (int i = 0; i < 64; ++i) m.Observe(100 + (i % 4) * 100, 0.001 * (100 + (i % 4) * 100));
  const int64_t fast = m.TokensWithin(0.5, 1, 1 << 20);
  for (int i = 0; i < 64; ++i) m.Observe(100 + (i % 4) * 100, 0.004 * (100 + (i % 4) * 100));
  const int64_t slow = m.TokensWithin(0.5, 1, 1 << 20);
  EXPECT_NEAR(static_cast<double>(fast), 500, 5);
  EXPECT_NEAR(static_cast<double>(slow), 125, 5);
}

TEST(DefaultMaxBatchTest, TinyModelsHoldAThousandStreamsLargerOnes64) {
  ModelConfig tiny;
  tiny.n_vocab = 256;
  tiny.n_embd = 64;
  tiny.n_layer = 12;
  tiny.ffn_dim = 256;
  EXPECT_EQ(DefaultMaxBatch(tiny), 1024);
  ModelConfig small = tiny;  // RWKV-7 0.1B
  small.n_vocab = 65536;
  small.n_embd = 768;
  small.ffn_dim = 3072;
  EXPECT_EQ(DefaultMaxBatch(small), 64);
  ModelConfig mid = tiny;  // in between: a power of two
  mid.n_embd = 256;
  mid.ffn_dim = 1024;
  mid.n_vocab = 65536;
  const int64_t b = DefaultMaxBatch(mid);
  EXPECT_GT(b, 64);
  EXPECT_LT(b, 1024);
  EXPECT_EQ(b & (b - 1), 0);
}

}  // namespace
}  // namespace dte
