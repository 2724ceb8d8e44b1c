// The real engine's timing record, turned into spans, and the worker metrics it feeds: a demo
// model generates; the recorded times are ordered, the spans nest, steps land in the histogram
// of their phase, and the queue capacity is exported.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>

#include "engine/engine.h"
#include "server/request_spans.h"
#include "server/worker_metrics.h"
#include "telemetry/trace_store.h"

namespace dte::server {
namespace {

using namespace std::chrono_literals;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

Completion Generate(Engine& engine, const std::string& prompt, int64_t max_tokens) {
  GenerationRequest r;
  r.prompt_tokens.assign(prompt.begin(), prompt.end());
  r.sampling.temperature = 0;
  r.max_tokens = max_tokens;
  auto ch = std::make_shared<TokenChannel>();
  Status s = engine.Submit(std::move(r), ch);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<TokenPiece> pieces;
  for (int i = 0; i < 100; ++i)
    if (std::optional<Completion> c = ch->WaitAndDrain(&pieces, 1000ms)) return *c;
  ADD_FAILURE() << "no completion";
  return {};
}

// Sample value of a series line that starts with `prefix` (e.g. `dte_queue_capacity `).
double Value(const std::string& text, const std::string& prefix) {
  const size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + 1 + prefix.size()));
}

class EngineSpansTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = Model::Load(kModel);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EngineOptions o;
    o.threads = 1;
    o.max_queue = 7;
    metrics_.SetQueueCapacity(o.max_queue);
    engine_ = std::make_unique<Engine>(
        *model, std::shared_ptr<const Tokenizer>(MakeByteTokenizer()), o, &metrics_);
    tracer_.AddSink(store_);
  }
  WorkerMetrics metrics_;
  std::unique_ptr<Engine> engine_;
  Tracer tracer_;
  std::shared_ptr<TraceStore> store_ = std::make_shared<TraceStore>();
};

TEST_F(EngineSpansTest, TheRecordedTimesAreOrderedAndBecomeNestedSpans) {
  Span request = tracer_.StartSpan("worker.request", SpanKind::kServer);
  const Completion c = Generate(*engine_, "hello there", 8);
  ASSERT_EQ(c.reason, FinishReason::kLength);
  const RequestTiming& t = c.timing;
  EXPECT_EQ(t.cache_lookup_start_unix_nano, 0);  // no state cache here
  EXPECT_TRUE(t.cache_tier.empty());
  EXPECT_GT(t.enqueued_unix_nano, 0);
  EXPECT_GE(t.queue_depth, 1);
  EXPECT_LE(t.enqueued_unix_nano, t.admitted_unix_nano);
  EXPECT_LE(t.admitted_unix_nano, t.first_token_unix_nano);
  EXPECT_LE(t.first_token_unix_nano, t.finished_unix_nano);
  AddEngineSpans(tracer_, request.context(), c);
  request.End();

  const auto spans = store_->Get(request.context().trace_id);
  std::map<std::string, std::shared_ptr<const SpanData>> by_name;
  for (const auto& s : spans) by_name[s->name] = s;
  ASSERT_EQ(by_name.size(), 4u);  // request, queue wait, prefill, decode
  const SpanData& root = *by_name.at("worker.request");
  for (const char* name : {"engine.queue_wait", "engine.prefill", "engine.decode"}) {
    const SpanData& s = *by_name.at(name);
    EXPECT_EQ(s.parent_span_id, root.span_id) << name;
    EXPECT_LE(root.start_unix_nano, s.start_unix_nano) << name;
    EXPECT_LE(s.end_unix_nano, root.end_unix_nano) << name;
  }
  EXPECT_EQ(std::get<int64_t>(*by_name.at("engine.prefill")->FindAttribute("dte.prefill.tokens")),
            11);
  EXPECT_EQ(std::get<int64_t>(*by_name.at("engine.decode")->FindAttribute("dte.decode.tokens")), 8);
}

TEST_F(EngineSpansTest, APrefillOnlyRequestHasNoDecode) {
  Span request = tracer_.StartSpan("worker.request", SpanKind::kServer);
  const Completion c = Generate(*engine_, "a system prompt", 0);
  EXPECT_EQ(c.timing.first_token_unix_nano, 0);
  EXPECT_GT(c.timing.finished_unix_nano, 0);
  AddEngineSpans(tracer_, request.context(), c);
  request.End();
  std::map<std::string, std::shared_ptr<const SpanData>> by_name;
  for (const auto& s : store_->Get(request.context().trace_id)) by_name[s->name] = s;
  EXPECT_EQ(by_name.count("engine.decode"), 0u);
  ASSERT_EQ(by_name.count("engine.prefill"), 1u);
  EXPECT_EQ(by_name.at("engine.prefill")->end_unix_nano, c.timing.finished_unix_nano);
}

TEST_F(EngineSpansTest, StepsAreCountedByPhaseAndTheQueueCapacityIsExported) {
  (void)Generate(*engine_, "hello there", 5);  // one prompt step, then decode-only steps
  const std::string text = metrics_.Serialize(engine_->Stats());
  EXPECT_EQ(Value(text, "dte_queue_capacity "), 7);
  EXPECT_GE(Value(text, "dte_step_duration_seconds_count{phase=\"prefill\"} "), 1);
  EXPECT_GE(Value(text, "dte_step_duration_seconds_count{phase=\"decode\"} "), 4);
  EXPECT_EQ(Value(text, "dte_step_duration_seconds_count{phase=\"mixed\"} "), 0);
}

}  // namespace
}  // namespace dte::server
