// The engine end to end on real tiny models: continuous batching gives each request what it
// gets alone, sessions continue exactly, and limits, cancellation and shutdown behave.

#include "engine/engine.h"

#include <gtest/gtest.h>

#include <thread>

#include "golden/golden_test_util.h"
#include "kernels/vector_ops.h"

namespace dte {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const Model> LoadTiny(const std::string& stem) {
  auto m = Model::Load(testing::TinyModel(stem, "FP32"));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

std::vector<int32_t> Bytes(const std::string& s) { return std::vector<int32_t>(s.begin(), s.end()); }

struct Output {
  std::string text;
  int64_t tokens = 0;
  Completion completion;
};

Output Collect(const std::shared_ptr<TokenChannel>& ch) {
  Output out;
  std::vector<TokenPiece> pieces;
  while (true) {
    std::optional<Completion> c = ch->WaitAndDrain(&pieces, 1000ms);
    for (auto& p : pieces) {
      out.text += p.text;
      out.tokens += p.tokens;
    }
    pieces.clear();
    if (c) {
      out.completion = *c;
      return out;
    }
  }
}

GenerationRequest Greedy(const std::string& prompt, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt_tokens = Bytes(prompt);
  r.sampling.temperature = 0;
  r.max_tokens = max_tokens;
  return r;
}

// Reference: greedy decoding with the model directly, one sequence.
std::string GreedyAlone(const Model& model, const std::vector<int32_t>& prompt, int n) {
  Scratch scratch;
  State state = model.NewState();
  std::vector<float> logits(256);
  model.ForwardSequence(prompt, state, logits.data(), scratch, nullptr);
  std::string out;
  for (int i = 0; i < n; ++i) {
    int32_t t = static_cast<int32_t>(ArgMax(logits.data(), 256));
    out.push_back(static_cast<char>(t));
    if (i + 1 < n) model.ForwardSequence(std::span<const int32_t>(&t, 1), state, logits.data(), scratch, nullptr);
  }
  return out;
}

class EngineTest : public ::testing::Test {
 protected:
  void Start(EngineOptions options = {}) {
    model_ = LoadTiny("5v2-730K");
    options.threads = 2;
    engine_ = std::make_unique<Engine>(model_, std::shared_ptr<const Tokenizer>(MakeByteTokenizer()), options);
  }
  std::shared_ptr<TokenChannel> Submit(GenerationRequest r, Status* status = nullptr) {
    auto ch = std::make_shared<TokenChannel>();
    Status s = engine_->Submit(std::move(r), ch);
    if (status) *status = s;
    else EXPECT_TRUE(s.ok()) << s.ToString();
    return ch;
  }
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, GreedyMatchesTheModelRunAlone) {
  Start();
  Output out = Collect(Submit(Greedy("\"in", 20)));
  EXPECT_EQ(out.text, GreedyAlone(*model_, Bytes("\"in"), 20));
  EXPECT_EQ(out.completion.reason, FinishReason::kLength);
  EXPECT_EQ(out.completion.usage.prompt_tokens, 3);
  EXPECT_EQ(out.completion.usage.completion_tokens, 20);
  EXPECT_EQ(out.tokens, 20);
}

TEST_F(EngineTest, BatchedRequestsGetWhatEachGetsAlone) {
  EngineOptions options;
  options.prefill_chunk = 7;  // prompts take several steps, interleaved with decodes
  Start(options);
  std::vector<std::string> prompts;
  for (int i = 0; i < 12; ++i) prompts.push_back("Request " + std::to_string(i) + std::string(i * 5, 'x') + ": \"in");
  std::vector<std::shared_ptr<TokenChannel>> channels;
  for (const auto& p : prompts) channels.push_back(Submit(Greedy(p, 16)));
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(Collect(channels[i]).text, GreedyAlone(*model_, Bytes(prompts[i]), 16)) << i;
}

TEST_F(EngineTest, StopStringEndsGenerationWithoutEmittingIt) {
  Start();
  GenerationRequest r = Greedy("\"in", 50);
  r.stop_strings = {"\"\""};  // the reference continues `put": "",`
  Output out = Collect(Submit(r));
  EXPECT_EQ(out.text, "put\": ");
  EXPECT_EQ(out.completion.reason, FinishReason::kStop);
}

TEST_F(EngineTest, SessionContinuesExactlyWithoutReprocessingHistory) {
  Start();
  auto id = engine_->sessions().Create(model_->NewState());
  ASSERT_TRUE(id.ok());
  GenerationRequest t1 = Greedy("\"in", 8);
  t1.session_id = *id;
  Output o1 = Collect(Submit(t1));
  GenerationRequest t2 = Greedy("\nAnd then", 8);
  t2.session_id = *id;
  Output o2 = Collect(Submit(t2));
  // Turn 2 processed only its own tokens (+ turn 1's last sampled token).
  EXPECT_EQ(o2.completion.usage.prompt_tokens, 1 + 9);
  EXPECT_EQ(o2.completion.usage.cached_tokens, 3 + 7);
  // Same text as one request over the whole history.
  std::vector<int32_t> all = Bytes("\"in" + o1.text + "\nAnd then");
  EXPECT_EQ(o2.text, GreedyAlone(*model_, all, 8));
  auto info = engine_->sessions().Get(*id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->turns, 2);
  EXPECT_EQ(info->tokens, 3 + 8 + 9 + 8);
  EXPECT_FALSE(info->busy);
}

TEST_F(EngineTest, BusySessionIsAConflictAndMissingOneNotFound) {
  Start();
  auto id = engine_->sessions().Create(model_->NewState());
  GenerationRequest long_turn = Greedy("x", 100000);
  long_turn.session_id = *id;
  auto ch = Submit(long_turn);
  Status s;
  GenerationRequest second = Greedy("y", 1);
  second.session_id = *id;
  Submit(second, &s);
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  second.session_id = "sess_missing";
  Submit(second, &s);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  ch->Cancel();
  EXPECT_EQ(Collect(ch).completion.reason, FinishReason::kCancelled);
}

TEST_F(EngineTest, CancelledTurnLeavesTheSessionAsBefore) {
  Start();
  auto id = engine_->sessions().Create(model_->NewState());
  GenerationRequest t1 = Greedy("\"in", 4);
  t1.session_id = *id;
  Collect(Submit(t1));
  GenerationRequest aborted = Greedy("noise noise", 100000);
  aborted.session_id = *id;
  auto ch = Submit(aborted);
  std::vector<TokenPiece> pieces;
  ch->WaitAndDrain(&pieces, 5000ms);  // let it run a little
  ch->Cancel();
  EXPECT_EQ(Collect(ch).completion.reason, FinishReason::kCancelled);
  GenerationRequest t2 = Greedy("\nok", 6);
  t2.session_id = *id;
  Output o2 = Collect(Submit(t2));
  std::string t1_text = GreedyAlone(*model_, Bytes("\"in"), 4);
  EXPECT_EQ(o2.text, GreedyAlone(*model_, Bytes("\"in" + t1_text + "\nok"), 6));
  EXPECT_EQ(engine_->sessions().Get(*id)->turns, 2);
}

TEST_F(EngineTest, PrefillOnlyRequestFinishesWithoutTokens) {
  Start();
  auto id = engine_->sessions().Create(model_->NewState());
  GenerationRequest system = Greedy("System: be brief.\n\n", 0);
  system.session_id = *id;
  Output out = Collect(Submit(system));
  EXPECT_EQ(out.text, "");
  EXPECT_EQ(out.completion.usage.completion_tokens, 0);
  EXPECT_EQ(engine_->sessions().Get(*id)->tokens, 19);
}

TEST_F(EngineTest, FullQueueIsRefusedAtOnce) {
  EngineOptions options;
  options.max_batch = 1;
  options.max_queue = 1;
  Start(options);
  auto running = Submit(Greedy("a", 100000));
  std::shared_ptr<TokenChannel> queued;
  Status s;
  // The first request may still be in the queue for a moment: fill until refused.
  for (int i = 0; i < 3 && s.ok(); ++i) queued = Submit(Greedy("b", 1), &s);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  running->Cancel();
  EXPECT_EQ(Collect(running).completion.reason, FinishReason::kCancelled);
}

TEST_F(EngineTest, InvalidRequestsAreRejected) {
  Start();
  Status s;
  GenerationRequest r = Greedy("", 4);
  Submit(r, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  r = Greedy("a", 4);
  r.prompt_tokens.push_back(999);
  Submit(r, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  r = Greedy("a", 4);
  r.sampling.top_p = 2;
  Submit(r, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, ShutdownEndsEverythingWithAnError) {
  EngineOptions options;
  options.max_batch = 1;
  Start(options);
  auto a = Submit(Greedy("a", 100000));
  auto b = Submit(Greedy("b", 10));
  engine_->Shutdown();
  EXPECT_EQ(Collect(a).completion.error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(Collect(b).completion.error.code(), StatusCode::kUnavailable);
  Status s;
  Submit(Greedy("c", 1), &s);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace dte
