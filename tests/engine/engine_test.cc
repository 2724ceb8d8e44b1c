// The engine end to end on real tiny models: continuous batching gives each request what it
// gets alone, sessions continue exactly, and limits, cancellation and shutdown behave.

#include "engine/engine.h"

#include <gtest/gtest.h>

#include <mutex>
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
  void Start(EngineOptions options = {}, EngineObserver* observer = nullptr) {
    model_ = LoadTiny("5v2-730K");
    options.threads = 2;
    engine_ = std::make_unique<Engine>(model_, std::shared_ptr<const Tokenizer>(MakeByteTokenizer()),
                                       options, observer);
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

// Records every step the scheduler runs.
class StepLog : public EngineObserver {
 public:
  void OnStep(int64_t sequences, int64_t tokens, double) override {
    std::lock_guard<std::mutex> lock(mu_);
    steps_.push_back({sequences, tokens});
  }
  std::vector<std::pair<int64_t, int64_t>> steps() {
    std::lock_guard<std::mutex> lock(mu_);
    return steps_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<int64_t, int64_t>> steps_;
};

// Eight sequences generating fill the step budget on their own; a new request's prompt still
// runs from the next step on (at the floor rate), and the eight keep advancing in every step.
TEST_F(EngineTest, NewPromptStartsAtOnceWhileTheBatchIsFullOfDecodes) {
  EngineOptions options;
  options.max_batch = 9;
  options.step_seconds = 0;  // the budget is step_min_tokens
  options.step_min_tokens = 4;
  options.prefill_chunk = 4;
  StepLog log;
  Start(options, &log);
  std::vector<std::shared_ptr<TokenChannel>> running;
  for (int i = 0; i < 8; ++i) running.push_back(Submit(Greedy("run " + std::to_string(i), 1000000)));
  for (auto& ch : running) {  // all eight are generating
    std::vector<TokenPiece> pieces;
    while (pieces.empty()) ch->WaitAndDrain(&pieces, 1000ms);
  }
  const size_t before = log.steps().size();
  Output out = Collect(Submit(Greedy("twelve bytes", 1)));  // 12 prompt tokens: 3 steps of 4
  const std::vector<std::pair<int64_t, int64_t>> steps = log.steps();
  EXPECT_EQ(out.completion.reason, FinishReason::kLength);
  // The prompt's steps hold 9 sequences (8 decodes + the prompt) and 12 tokens: three of
  // them in a row, the first at most two steps after submission (one in flight, admission).
  std::vector<size_t> with_prompt;
  for (size_t i = before; i < steps.size(); ++i)
    if (steps[i].first == 9) with_prompt.push_back(i);
  ASSERT_EQ(with_prompt.size(), 3u);
  EXPECT_LE(with_prompt[0], before + 2) << "the prompt waited behind the decodes";
  EXPECT_EQ(with_prompt[2], with_prompt[0] + 2);
  for (size_t i = before; i <= with_prompt[2]; ++i) {
    EXPECT_GE(steps[i].first, 8) << "a decode was left out of step " << i;
    if (steps[i].first == 9) {
      EXPECT_EQ(steps[i].second, 12) << i;
    }
  }
  for (auto& ch : running) {
    ch->Cancel();
    EXPECT_EQ(Collect(ch).completion.reason, FinishReason::kCancelled);
  }
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
