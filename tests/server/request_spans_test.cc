// The engine's spans of one generation, built afterwards from Completion::timing.

#include "server/request_spans.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

namespace dte::server {
namespace {

class CollectingSink : public SpanSink {
 public:
  void OnEnd(std::shared_ptr<const SpanData> span) override {
    std::lock_guard<std::mutex> lock(mu);
    spans.push_back(std::move(span));
  }
  std::map<std::string, std::shared_ptr<const SpanData>> ByName() {
    std::lock_guard<std::mutex> lock(mu);
    std::map<std::string, std::shared_ptr<const SpanData>> out;
    for (const auto& s : spans) out[s->name] = s;
    return out;
  }
  std::mutex mu;
  std::vector<std::shared_ptr<const SpanData>> spans;
};

int64_t IntAttr(const SpanData& s, std::string_view key) {
  const AttributeValue* v = s.FindAttribute(key);
  return v && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : -1;
}
std::string StrAttr(const SpanData& s, std::string_view key) {
  const AttributeValue* v = s.FindAttribute(key);
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "";
}

Completion Finished(int64_t t0) {
  Completion c;
  c.reason = FinishReason::kLength;
  c.usage.prompt_tokens = 21;
  c.usage.completion_tokens = 5;
  c.usage.cached_tokens = 16;
  c.usage.prefix_hit_tokens = 16;
  RequestTiming& t = c.timing;
  t.cache_lookup_start_unix_nano = t0 + 100;
  t.cache_lookup_end_unix_nano = t0 + 200;
  t.cache_tier = "l2";
  t.enqueued_unix_nano = t0 + 300;
  t.queue_depth = 3;
  t.admitted_unix_nano = t0 + 1000;
  t.checkpoints.push_back({t0 + 1500, t0 + 1600, 21});
  t.first_token_unix_nano = t0 + 2000;
  t.finished_unix_nano = t0 + 5000;
  return c;
}

TEST(RequestSpansTest, EngineSpansAreChildrenWithTheRecordedTimes) {
  Tracer tracer;
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  const int64_t t0 = UnixNanosNow();
  Span request = tracer.StartSpanAt("worker.request", TraceContext{}, t0, SpanKind::kServer);
  ASSERT_TRUE(request.IsRecording());
  AddEngineSpans(tracer, request.context(), Finished(t0));
  request.End(t0 + 6000);

  auto spans = sink->ByName();
  ASSERT_EQ(spans.size(), 6u);
  const SpanData& root = *spans.at("worker.request");
  for (const char* name : {"cache.get", "engine.queue_wait", "engine.prefill", "engine.decode"}) {
    const SpanData& s = *spans.at(name);
    EXPECT_EQ(s.trace_id, root.trace_id) << name;
    EXPECT_EQ(s.parent_span_id, root.span_id) << name;
    EXPECT_EQ(s.kind, SpanKind::kInternal) << name;
    EXPECT_LE(root.start_unix_nano, s.start_unix_nano) << name;
    EXPECT_LE(s.start_unix_nano, s.end_unix_nano) << name;
    EXPECT_LE(s.end_unix_nano, root.end_unix_nano) << name;
  }
  const SpanData& get = *spans.at("cache.get");
  EXPECT_EQ(get.start_unix_nano, t0 + 100);
  EXPECT_EQ(get.end_unix_nano, t0 + 200);
  EXPECT_EQ(StrAttr(get, "dte.cache.tier"), "l2");
  const SpanData& wait = *spans.at("engine.queue_wait");
  EXPECT_EQ(wait.start_unix_nano, t0 + 300);
  EXPECT_EQ(wait.end_unix_nano, t0 + 1000);
  EXPECT_EQ(IntAttr(wait, "dte.queue_depth"), 3);
  const SpanData& prefill = *spans.at("engine.prefill");
  EXPECT_EQ(prefill.start_unix_nano, t0 + 1000);
  EXPECT_EQ(prefill.end_unix_nano, t0 + 2000);
  EXPECT_EQ(IntAttr(prefill, "dte.prefill.tokens"), 21);
  EXPECT_EQ(IntAttr(prefill, "dte.cache.cached_tokens"), 16);
  EXPECT_EQ(StrAttr(prefill, "dte.cache.tier"), "l2");
  const SpanData& put = *spans.at("cache.put");
  EXPECT_EQ(put.parent_span_id, prefill.span_id);
  EXPECT_EQ(put.start_unix_nano, t0 + 1500);
  EXPECT_EQ(IntAttr(put, "dte.cache.prefix_tokens"), 21);
  const SpanData& decode = *spans.at("engine.decode");
  EXPECT_EQ(decode.start_unix_nano, t0 + 2000);
  EXPECT_EQ(decode.end_unix_nano, t0 + 5000);
  EXPECT_EQ(IntAttr(decode, "dte.decode.tokens"), 5);
  EXPECT_EQ(StrAttr(decode, "gen_ai.response.finish_reasons"), "length");
  EXPECT_EQ(decode.status, SpanStatusCode::kUnset);
}

TEST(RequestSpansTest, AFailureBeforeTheFirstTokenEndsInAFailedPrefill) {
  Tracer tracer;
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  const int64_t t0 = UnixNanosNow();
  Completion c = Finished(t0);
  c.reason = FinishReason::kError;
  c.error = Status::Unavailable("the engine is shutting down");
  c.timing.first_token_unix_nano = 0;
  c.timing.cache_lookup_start_unix_nano = 0;  // no state cache
  c.timing.cache_tier.clear();
  Span request = tracer.StartSpan("worker.request", SpanKind::kServer);
  AddEngineSpans(tracer, request.context(), c);
  request.End();
  auto spans = sink->ByName();
  EXPECT_EQ(spans.count("cache.get"), 0u);
  EXPECT_EQ(spans.count("engine.decode"), 0u);
  const SpanData& prefill = *spans.at("engine.prefill");
  EXPECT_EQ(prefill.end_unix_nano, t0 + 5000);  // until the request finished
  EXPECT_EQ(prefill.status, SpanStatusCode::kError);
  EXPECT_EQ(prefill.status_message, "the engine is shutting down");
  EXPECT_EQ(prefill.FindAttribute("dte.cache.tier"), nullptr);
}

TEST(RequestSpansTest, ANeverAdmittedRequestHasOnlyItsQueueWait) {
  Tracer tracer;
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  const int64_t t0 = UnixNanosNow();
  Completion c = Finished(t0);
  c.reason = FinishReason::kError;
  c.error = Status::Unavailable("the engine is shutting down");
  c.timing.admitted_unix_nano = 0;
  c.timing.first_token_unix_nano = 0;
  Span request = tracer.StartSpan("worker.request", SpanKind::kServer);
  AddEngineSpans(tracer, request.context(), c);
  request.End();
  auto spans = sink->ByName();
  EXPECT_EQ(spans.count("engine.prefill"), 0u);
  const SpanData& wait = *spans.at("engine.queue_wait");
  EXPECT_EQ(wait.end_unix_nano, t0 + 5000);
  EXPECT_EQ(wait.status, SpanStatusCode::kError);
}

TEST(RequestSpansTest, UnsampledParentsRecordNothing) {
  TracerOptions o;
  o.sample_ratio = 0;
  Tracer tracer(o);
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  Span request = tracer.StartSpan("worker.request", SpanKind::kServer);
  EXPECT_FALSE(request.IsRecording());
  EXPECT_TRUE(request.context().IsValid());  // still propagates
  AddEngineSpans(tracer, request.context(), Finished(UnixNanosNow()));
  request.End();
  EXPECT_TRUE(sink->spans.empty());
}

}  // namespace
}  // namespace dte::server
