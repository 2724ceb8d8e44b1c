#include "telemetry/tracer.h"

#include <gtest/gtest.h>

#include <mutex>

#include "telemetry/trace_store.h"

namespace dte {
namespace {

TraceQuery Query(size_t limit, double min_duration_ms = 0,
                 std::optional<SpanStatusCode> status = {}) {
  TraceQuery q;
  q.limit = limit;
  q.min_duration_ms = min_duration_ms;
  q.status = status;
  return q;
}

TraceStoreOptions StoreLimits(size_t max_spans, size_t max_bytes) {
  TraceStoreOptions o;
  o.max_spans = max_spans;
  o.max_bytes = max_bytes;
  return o;
}

class CollectingSink : public SpanSink {
 public:
  void OnEnd(std::shared_ptr<const SpanData> span) override {
    std::lock_guard<std::mutex> lock(mu);
    spans.push_back(std::move(span));
  }
  std::mutex mu;
  std::vector<std::shared_ptr<const SpanData>> spans;
};

TEST(TracerTest, ChildSpansShareTheTraceAndLinkTheirParent) {
  Tracer tracer;
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  {
    Span root = tracer.StartSpan("router.proxy", SpanKind::kServer);
    Span child = tracer.StartSpan("worker.request", root.context(), SpanKind::kClient);
    child.SetAttribute("tokens", 12)
        .SetAttribute("tier", "l1")
        .SetAttribute("ratio", 0.5)
        .SetAttribute("hit", true);
    child.AddEvent("first_token", {{"index", int64_t{0}}});
    child.SetStatus(SpanStatusCode::kError, "backend down").SetStatus(SpanStatusCode::kOk);
    EXPECT_EQ(child.context().trace_id, root.context().trace_id);
    EXPECT_NE(child.context().span_id, root.context().span_id);
  }
  ASSERT_EQ(sink->spans.size(), 2u);
  const SpanData& child = *sink->spans[0];  // ended first (destroyed in reverse order)
  const SpanData& root = *sink->spans[1];
  EXPECT_EQ(child.name, "worker.request");
  EXPECT_EQ(child.parent_span_id, root.span_id);
  EXPECT_FALSE(root.parent_span_id.IsValid());
  EXPECT_EQ(child.status, SpanStatusCode::kError);  // error is final
  EXPECT_EQ(child.status_message, "backend down");
  EXPECT_GE(child.end_unix_nano, child.start_unix_nano);
  EXPECT_GE(root.end_unix_nano, child.end_unix_nano);
  ASSERT_NE(child.FindAttribute("tokens"), nullptr);
  EXPECT_EQ(std::get<int64_t>(*child.FindAttribute("tokens")), 12);
  EXPECT_EQ(std::get<std::string>(*child.FindAttribute("tier")),
            "l1");  // const char* is a string, not a bool
  EXPECT_EQ(std::get<bool>(*child.FindAttribute("hit")), true);
  ASSERT_EQ(child.events.size(), 1u);
  EXPECT_EQ(child.events[0].name, "first_token");
}

TEST(TracerTest, SpansTimedElsewhereKeepTheirTimes) {
  Tracer tracer;
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  Span request = tracer.StartSpan("worker.request", SpanKind::kServer);
  {
    Span wait = tracer.StartSpanAt("engine.queue_wait", request.context(), 1'000'000'000);
    wait.End(1'250'000'000);
  }
  ASSERT_EQ(sink->spans.size(), 1u);
  EXPECT_EQ(sink->spans[0]->start_unix_nano, 1'000'000'000);
  EXPECT_EQ(sink->spans[0]->end_unix_nano, 1'250'000'000);
  EXPECT_DOUBLE_EQ(sink->spans[0]->DurationMs(), 250.0);
  EXPECT_EQ(sink->spans[0]->parent_span_id, request.context().span_id);
}

TEST(TracerTest, EndIsIdempotentAndMovesKeepOneRecord) {
  Tracer tracer;
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  Span a = tracer.StartSpan("a");
  Span b = std::move(a);
  b.End();
  b.End();
  EXPECT_EQ(sink->spans.size(), 1u);
}

TEST(TracerTest, RemoteParentFromTraceparentIsHonoured) {
  Tracer tracer(TracerOptions{"dte", 0.0});  // would sample nothing on its own
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  {
    Span s = tracer.StartServerSpan("worker.request",
                                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    EXPECT_TRUE(s.IsRecording());
    EXPECT_EQ(s.context().trace_id.Hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_TRUE(s.Traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    EXPECT_TRUE(s.Traceparent().ends_with("-01"));
  }
  ASSERT_EQ(sink->spans.size(), 1u);
  EXPECT_EQ(sink->spans[0]->parent_span_id.Hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(sink->spans[0]->remote_parent);
  EXPECT_EQ(sink->spans[0]->kind, SpanKind::kServer);
}

TEST(TracerTest, UnsampledParentIsNotRecordedButStillPropagates) {
  Tracer tracer(TracerOptions{"dte", 1.0});
  auto sink = std::make_shared<CollectingSink>();
  tracer.AddSink(sink);
  {
    Span s = tracer.StartServerSpan("x", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    EXPECT_FALSE(s.IsRecording());
    s.SetAttribute("k", 1);  // a no-op
    EXPECT_TRUE(s.context().IsValid());
    EXPECT_TRUE(s.Traceparent().ends_with("-00"));
    Span child = tracer.StartSpan("y", s.context());
    EXPECT_FALSE(child.IsRecording());
  }
  EXPECT_TRUE(sink->spans.empty());
}

TEST(TracerTest, MalformedTraceparentStartsANewRoot) {
  Tracer tracer;
  Span s = tracer.StartServerSpan("x", "00-00000000000000000000000000000000-00f067aa0ba902b7-01");
  EXPECT_TRUE(s.IsRecording());
  EXPECT_NE(s.context().trace_id.Hex(), "00000000000000000000000000000000");
}

TEST(TracerTest, HeadSamplingRatioIsRespected) {
  for (double ratio : {0.0, 0.1, 0.5, 1.0}) {
    Tracer tracer(TracerOptions{"dte", ratio});
    int sampled = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) sampled += tracer.StartSpan("x").IsRecording();
    EXPECT_NEAR(static_cast<double>(sampled) / n, ratio, 0.02) << ratio;
  }
}

TEST(TraceStoreTest, GroupsByTraceAndAnswersQueries) {
  Tracer tracer;
  auto store = std::make_shared<TraceStore>();
  tracer.AddSink(store);
  TraceId slow_id, failed_id;
  {
    Span root = tracer.StartSpan("router.proxy", SpanKind::kServer);
    slow_id = root.context().trace_id;
    Span child = tracer.StartSpan("worker.request", root.context());
    child.End(UnixNanosNow() + 50'000'000);  // 50 ms later
    root.End(UnixNanosNow() + 60'000'000);
  }
  {
    Span root = tracer.StartSpan("router.proxy", SpanKind::kServer);
    failed_id = root.context().trace_id;
    root.SetStatus(SpanStatusCode::kError, "502 from backend");
  }
  { Span fast = tracer.StartSpan("health"); }
  EXPECT_EQ(store->trace_count(), 3u);
  EXPECT_EQ(store->span_count(), 4u);

  auto all = store->Recent({});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].root_name, "health");  // newest first
  auto slow = store->Recent(Query(10, 40));
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_EQ(slow[0].trace_id, slow_id);
  EXPECT_EQ(slow[0].span_count, 2u);
  EXPECT_EQ(slow[0].root_name, "router.proxy");
  auto failed = store->Recent(Query(10, 0, SpanStatusCode::kError));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].trace_id, failed_id);
  EXPECT_EQ(store->Recent(Query(1)).size(), 1u);

  auto spans = store->Get(slow_id);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]->name, "router.proxy");  // ordered by start time
  EXPECT_TRUE(store->Get(TraceId::Random()).empty());
}

TEST(TraceStoreTest, EvictsOldestTracesBySpanCountAndBytes) {
  Tracer tracer;
  auto store = std::make_shared<TraceStore>(StoreLimits(10, 1 << 30));
  tracer.AddSink(store);
  std::vector<TraceId> ids;
  for (int i = 0; i < 8; ++i) {
    Span root = tracer.StartSpan("t" + std::to_string(i));
    ids.push_back(root.context().trace_id);
    Span child = tracer.StartSpan("c", root.context());
  }
  EXPECT_LE(store->span_count(), 10u);
  EXPECT_EQ(store->trace_count(), 5u);
  EXPECT_TRUE(store->Get(ids[0]).empty());
  EXPECT_FALSE(store->Get(ids[7]).empty());
  EXPECT_EQ(store->evicted_traces(), 3u);

  auto small = std::make_shared<TraceStore>(StoreLimits(1000, 4096));
  Tracer t2;
  t2.AddSink(small);
  for (int i = 0; i < 100; ++i) {
    Span s = t2.StartSpan("span-with-a-longer-name");
    s.SetAttribute("payload", std::string(200, 'x'));
  }
  EXPECT_LE(small->byte_count(), 4096u);
  EXPECT_GT(small->trace_count(), 0u);
}

TEST(TraceStoreTest, RendersJsonForTheEndpoints) {
  Tracer tracer;
  auto store = std::make_shared<TraceStore>();
  tracer.AddSink(store);
  std::string id;
  {
    Span s = tracer.StartSpan("worker.request", SpanKind::kServer);
    s.SetAttribute("http.route", "/v1/completions").SetAttribute("nan", std::nan(""));
    s.SetStatus(SpanStatusCode::kError, "boom");
    id = s.context().trace_id.Hex();
  }
  auto list = nlohmann::json::parse(RenderTraceList(*store, {}));
  ASSERT_EQ(list["traces"].size(), 1u);
  EXPECT_EQ(list["traces"][0]["trace_id"], id);
  EXPECT_EQ(list["traces"][0]["status"], "error");
  EXPECT_EQ(list["stored_spans"], 1);

  auto one = RenderTrace(*store, id);
  ASSERT_TRUE(one.ok());
  auto j = nlohmann::json::parse(*one);
  EXPECT_EQ(j["spans"][0]["attributes"]["http.route"], "/v1/completions");
  EXPECT_EQ(j["spans"][0]["attributes"]["nan"], "NaN");
  EXPECT_EQ(j["spans"][0]["kind"], "server");
  EXPECT_EQ(j["spans"][0]["status"]["message"], "boom");
  EXPECT_EQ(RenderTrace(*store, TraceId::Random().Hex()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(RenderTrace(*store, "xyz").status().code(), StatusCode::kInvalidArgument);
}

TEST(TraceStoreTest, ParsesQueryStrings) {
  auto q = ParseTraceQuery("limit=5&min_duration_ms=12.5&status=error&name=router.proxy");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 5u);
  EXPECT_DOUBLE_EQ(q->min_duration_ms, 12.5);
  EXPECT_EQ(q->status, SpanStatusCode::kError);
  EXPECT_EQ(q->name, "router.proxy");
  EXPECT_TRUE(ParseTraceQuery("").ok());
  EXPECT_FALSE(ParseTraceQuery("limit=0").ok());
  EXPECT_FALSE(ParseTraceQuery("limit=abc").ok());
  EXPECT_FALSE(ParseTraceQuery("min_duration_ms=-1").ok());
  EXPECT_FALSE(ParseTraceQuery("status=bad").ok());
}

}  // namespace
}  // namespace dte
