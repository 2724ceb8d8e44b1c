// The OTLP/HTTP JSON exporter against a loopback receiver: the exported JSON is checked field by
// field against the OTLP specification (opentelemetry-proto trace.proto + the OTLP JSON rules),
// then retries, drops and shutdown flushing.

#include "telemetry/otlp_exporter.h"

#include <gtest/gtest.h>

#include <regex>

#include "telemetry/loopback_receiver.h"
#include "telemetry/metrics_registry.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::LoopbackReceiver;
using namespace std::chrono_literals;

OtlpExporterOptions FastOptions(const LoopbackReceiver& receiver) {
  OtlpExporterOptions o;
  o.endpoint = receiver.url("/v1/traces");
  o.resource.service_name = "dte-test";
  o.max_delay = 50ms;
  o.initial_backoff = 20ms;
  o.max_backoff = 200ms;
  o.request_timeout = 2000ms;
  return o;
}

bool IsLowerHex(const std::string& s, size_t n) {
  return std::regex_match(s, std::regex("[0-9a-f]{" + std::to_string(n) + "}"));
}

const json* FindAttribute(const json& attributes, const std::string& key) {
  for (const auto& a : attributes)
    if (a["key"] == key) return &a["value"];
  return nullptr;
}

TEST(OtlpExporterTest, ExportedJsonFollowsTheOtlpSpecification) {
  LoopbackReceiver receiver;
  auto exporter = OtlpExporter::Create(FastOptions(receiver));
  ASSERT_TRUE(exporter.ok()) << exporter.status().ToString();
  Tracer tracer(TracerOptions{"dte-test", 1.0});
  tracer.AddSink(*exporter);
  std::string trace_hex, root_hex, child_hex;
  int64_t child_start = 0, child_end = 0;
  {
    Span root = tracer.StartServerSpan("router.proxy",
                                       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    Span child = tracer.StartSpan("worker.prefill", root.context(), SpanKind::kClient);
    child.SetAttribute("dte.prompt_tokens", int64_t{1234567890123})
        .SetAttribute("dte.cache_tier", "l2")
        .SetAttribute("dte.cache_hit_ratio", 0.75)
        .SetAttribute("dte.cache_hit", true);
    child.AddEvent("cache.lookup", {{"tier", std::string("l1")}});
    child.SetStatus(SpanStatusCode::kError, "prefill failed");
    trace_hex = root.context().trace_id.Hex();
    root_hex = root.context().span_id.Hex();
    child_hex = child.context().span_id.Hex();
    child.End();
    root.SetStatus(SpanStatusCode::kOk);
  }
  ASSERT_TRUE((*exporter)->Flush(5000ms));
  ASSERT_TRUE(receiver.WaitForRequests(1, 5000ms));
  auto req = receiver.requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/v1/traces");
  EXPECT_NE(req.head.find("Content-Type: application/json"), std::string::npos) << req.head;

  json body = json::parse(req.body);
  ASSERT_TRUE(body["resourceSpans"].is_array());
  ASSERT_EQ(body["resourceSpans"].size(), 1u);
  const json& rs = body["resourceSpans"][0];
  const json* service = FindAttribute(rs["resource"]["attributes"], "service.name");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ((*service)["stringValue"], "dte-test");
  ASSERT_EQ(rs["scopeSpans"].size(), 1u);
  EXPECT_TRUE(rs["scopeSpans"][0]["scope"]["name"].is_string());
  const json& spans = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);

  const json& child = spans[0];
  const json& root = spans[1];
  // Ids: lowercase hex strings of 32 / 16 digits (OTLP JSON, not base64).
  EXPECT_EQ(child["traceId"], trace_hex);
  EXPECT_EQ(root["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(IsLowerHex(child["spanId"], 16));
  EXPECT_EQ(child["spanId"], child_hex);
  EXPECT_EQ(child["parentSpanId"], root_hex);
  EXPECT_EQ(root["parentSpanId"], "00f067aa0ba902b7");  // the remote parent from traceparent
  EXPECT_EQ(child["name"], "worker.prefill");
  // Enums are integers: SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3.
  EXPECT_EQ(root["kind"], 2);
  EXPECT_EQ(child["kind"], 3);
  // Times: fixed64 nanoseconds as decimal strings.
  ASSERT_TRUE(child["startTimeUnixNano"].is_string());
  ASSERT_TRUE(child["endTimeUnixNano"].is_string());
  EXPECT_TRUE(
      std::regex_match(child["startTimeUnixNano"].get<std::string>(), std::regex("[0-9]{19}")));
  child_start = std::stoll(child["startTimeUnixNano"].get<std::string>());
  child_end = std::stoll(child["endTimeUnixNano"].get<std::string>());
  EXPECT_LE(child_start, child_end);
  EXPECT_LE(std::stoll(root["startTimeUnixNano"].get<std::string>()), child_start);
  EXPECT_GE(std::stoll(root["endTimeUnixNano"].get<std::string>()), child_end);
  // Attributes: [{key, value: {stringValue|intValue (string)|doubleValue|boolValue}}].
  EXPECT_EQ((*FindAttribute(child["attributes"], "dte.prompt_tokens"))["intValue"],
            "1234567890123");
  EXPECT_EQ((*FindAttribute(child["attributes"], "dte.cache_tier"))["stringValue"], "l2");
  EXPECT_EQ((*FindAttribute(child["attributes"], "dte.cache_hit_ratio"))["doubleValue"], 0.75);
  EXPECT_EQ((*FindAttribute(child["attributes"], "dte.cache_hit"))["boolValue"], true);
  // Events carry their time as a string too.
  ASSERT_EQ(child["events"].size(), 1u);
  EXPECT_EQ(child["events"][0]["name"], "cache.lookup");
  EXPECT_TRUE(child["events"][0]["timeUnixNano"].is_string());
  // Status: {code: 2 (ERROR), message}; ok is 1; ok has no message.
  EXPECT_EQ(child["status"]["code"], 2);
  EXPECT_EQ(child["status"]["message"], "prefill failed");
  EXPECT_EQ(root["status"]["code"], 1);
  EXPECT_FALSE(root["status"].contains("message"));
  // Flags: sampled bit plus "parent is remote" known (bit 8) and set (bit 9) for the root.
  EXPECT_EQ(root["flags"].get<int>() & 0x301, 0x301);
  EXPECT_EQ(child["flags"].get<int>() & 0x301, 0x101);

  auto stats = (*exporter)->stats();
  EXPECT_EQ(stats.exported, 2u);
  EXPECT_EQ(stats.dropped_queue_full, 0u);
}

TEST(OtlpExporterTest, RetriesRetryableStatusesHonouringRetryAfter) {
  LoopbackReceiver receiver;
  receiver.Script({{503, ""}, {429, "Retry-After: 0\r\n"}, {200, ""}});
  MetricsRegistry metrics;
  auto exporter = OtlpExporter::Create(FastOptions(receiver), &metrics.registry());
  ASSERT_TRUE(exporter.ok());
  Tracer tracer;
  tracer.AddSink(*exporter);
  { Span s = tracer.StartSpan("x"); }
  ASSERT_TRUE((*exporter)->Flush(5000ms));
  EXPECT_EQ(receiver.requests().size(), 3u);
  auto stats = (*exporter)->stats();
  EXPECT_EQ(stats.exported, 1u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.dropped_export_failed, 0u);
  std::string text = metrics.Serialize();
  EXPECT_NE(text.find("dte_trace_spans_exported_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("dte_trace_export_requests_total{result=\"retry\"} 2"), std::string::npos)
      << text;
  // The body is identical on every attempt.
  auto reqs = receiver.requests();
  EXPECT_EQ(reqs[0].body, reqs[2].body);
}

TEST(OtlpExporterTest, RetryAfterDelaysTheNextAttempt) {
  LoopbackReceiver receiver;
  receiver.Script({{503, "Retry-After: 1\r\n"}, {200, ""}});
  auto options = FastOptions(receiver);
  options.max_backoff = 5000ms;
  auto exporter = OtlpExporter::Create(options);
  ASSERT_TRUE(exporter.ok());
  Tracer tracer;
  tracer.AddSink(*exporter);
  auto start = std::chrono::steady_clock::now();
  { Span s = tracer.StartSpan("x"); }
  ASSERT_TRUE((*exporter)->Flush(10000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1000ms);  // the receiver asked for 1 s
  EXPECT_EQ((*exporter)->stats().exported, 1u);
}

TEST(OtlpExporterTest, OtherClientErrorsAreNotRetried) {
  LoopbackReceiver receiver;
  receiver.Script({{400, ""}});
  MetricsRegistry metrics;
  auto exporter = OtlpExporter::Create(FastOptions(receiver), &metrics.registry());
  ASSERT_TRUE(exporter.ok());
  Tracer tracer;
  tracer.AddSink(*exporter);
  { Span s = tracer.StartSpan("x"); }
  ASSERT_TRUE((*exporter)->Flush(5000ms));
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ((*exporter)->stats().dropped_export_failed, 1u);
  EXPECT_NE(metrics.Serialize().find("dte_trace_spans_dropped_total{reason=\"export_failed\"} 1"),
            std::string::npos);
}

TEST(OtlpExporterTest, NetworkErrorsAreRetriedThenGivenUp) {
  int port;
  {
    LoopbackReceiver gone;  // a port that nothing listens on any more
    port = gone.port();
  }
  OtlpExporterOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces";
  o.max_delay = 20ms;
  o.initial_backoff = 10ms;
  o.max_attempts = 3;
  auto exporter = OtlpExporter::Create(o);
  ASSERT_TRUE(exporter.ok());
  Tracer tracer;
  tracer.AddSink(*exporter);
  { Span s = tracer.StartSpan("x"); }
  ASSERT_TRUE((*exporter)->Flush(5000ms));
  auto stats = (*exporter)->stats();
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.dropped_export_failed, 1u);
}

// A transport that blocks until released, so the queue fills deterministically.
class GatedTransport : public OtlpTransport {
 public:
  HttpResult Post(const std::string& body) override {
    std::unique_lock<std::mutex> lock(mu);
    ++posts;
    bodies.push_back(body);
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    HttpResult r;
    r.status = 200;
    return r;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int posts = 0;
  std::vector<std::string> bodies;
};

TEST(OtlpExporterTest, DropsAndCountsWhenTheQueueIsFull) {
  auto transport = std::make_unique<GatedTransport>();
  GatedTransport* gate = transport.get();
  OtlpExporterOptions o;
  o.max_queue_spans = 10;
  o.max_batch_spans = 4;
  o.max_delay = 10ms;
  MetricsRegistry metrics;
  auto exporter = std::make_shared<OtlpExporter>(o, std::move(transport), &metrics.registry());
  Tracer tracer;
  tracer.AddSink(exporter);
  { Span s = tracer.StartSpan("first"); }
  {
    std::unique_lock<std::mutex> lock(gate->mu);  // the first batch (1 span) is now stuck in Post
    ASSERT_TRUE(gate->cv.wait_for(lock, 5s, [&] { return gate->posts == 1; }));
  }
  for (int i = 0; i < 25; ++i) {
    Span s = tracer.StartSpan("s" + std::to_string(i));
  }
  EXPECT_EQ(exporter->queued(), 10u);
  EXPECT_EQ(exporter->stats().dropped_queue_full, 15u);
  EXPECT_NE(metrics.Serialize().find("dte_trace_spans_dropped_total{reason=\"queue_full\"} 15"),
            std::string::npos);
  gate->Open();
  ASSERT_TRUE(exporter->Flush(5000ms));
  auto stats = exporter->stats();
  EXPECT_EQ(stats.exported, 11u);
  // Batches respect max_batch_spans: 1 + 4 + 4 + 2.
  size_t total = 0;
  for (const auto& b : gate->bodies) {
    size_t n = json::parse(b)["resourceSpans"][0]["scopeSpans"][0]["spans"].size();
    EXPECT_LE(n, 4u);
    total += n;
  }
  EXPECT_EQ(total, 11u);
}

TEST(OtlpExporterTest, ShutdownFlushesQueuedSpans) {
  LoopbackReceiver receiver;
  auto options = FastOptions(receiver);
  options.max_delay = 60000ms;  // nothing would be sent by the timer during the test
  options.max_batch_spans = 1000;
  auto exporter = OtlpExporter::Create(options);
  ASSERT_TRUE(exporter.ok());
  Tracer tracer;
  tracer.AddSink(*exporter);
  for (int i = 0; i < 7; ++i) {
    Span s = tracer.StartSpan("s");
  }
  EXPECT_EQ(receiver.requests().size(), 0u);
  (*exporter)->Shutdown(5000ms);
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(
      json::parse(receiver.requests()[0].body)["resourceSpans"][0]["scopeSpans"][0]["spans"].size(),
      7u);
  EXPECT_EQ((*exporter)->stats().exported, 7u);
  { Span late = tracer.StartSpan("after shutdown"); }
  EXPECT_EQ((*exporter)->stats().dropped_shutdown, 1u);
}

TEST(OtlpExporterTest, ShutdownDeadlineStopsRetrying) {
  LoopbackReceiver receiver;
  receiver.Script(std::vector<LoopbackReceiver::Response>(50, {503, "Retry-After: 1\r\n"}));
  auto options = FastOptions(receiver);
  options.max_delay = 60000ms;
  options.max_attempts = 50;
  options.max_backoff = 2000ms;
  auto exporter = OtlpExporter::Create(options);
  ASSERT_TRUE(exporter.ok());
  Tracer tracer;
  tracer.AddSink(*exporter);
  { Span s = tracer.StartSpan("s"); }
  auto start = std::chrono::steady_clock::now();
  (*exporter)->Shutdown(300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20000ms);  // not 50 attempts x 1 s
  EXPECT_EQ((*exporter)->stats().exported, 0u);
  EXPECT_EQ((*exporter)->stats().dropped_export_failed, 1u);
}

TEST(HttpPostTest, ParsesUrlsAndRetryAfter) {
  auto u = ParseHttpUrl("http://collector:4318/v1/traces");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "collector");
  EXPECT_EQ(u->port, 4318);
  EXPECT_EQ(u->path, "/v1/traces");
  EXPECT_EQ(ParseHttpUrl("http://h")->path, "/");
  EXPECT_EQ(ParseHttpUrl("http://h")->port, 80);
  EXPECT_EQ(ParseHttpUrl("http://[::1]:9/x")->host, "::1");
  EXPECT_EQ(ParseHttpUrl("https://h/x").status().code(), StatusCode::kUnsupported);
  EXPECT_FALSE(ParseHttpUrl("http://h:99999/").ok());
  EXPECT_FALSE(ParseHttpUrl("http:///x").ok());
  EXPECT_EQ(ParseRetryAfter("7", 0), 7.0);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10.0);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0.0);  // in the past
  EXPECT_FALSE(ParseRetryAfter("soon", 0).has_value());
}

}  // namespace
}  // namespace dte
