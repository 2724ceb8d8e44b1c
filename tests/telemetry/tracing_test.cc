#include "telemetry/tracing.h"

#include <gtest/gtest.h>

#include "telemetry/loopback_receiver.h"
#include "telemetry/metrics_registry.h"

namespace dte {
namespace {

using namespace std::chrono_literals;

TEST(TracingTest, StoresAndExportsWithServiceResource) {
  testing::LoopbackReceiver receiver;
  MetricsRegistry metrics;
  TracingOptions o;
  o.service_name = "dte-worker";
  o.otlp_endpoint = receiver.url("/v1/traces");
  o.resource_attributes = {{"service.instance.id", std::string("127.0.0.1:9001")}};
  auto tracing = Tracing::Create(o, &metrics.registry());
  ASSERT_TRUE(tracing.ok()) << tracing.status().ToString();
  std::string id;
  {
    Span s = (*tracing)->tracer().StartSpan("worker.request", SpanKind::kServer);
    id = s.context().trace_id.Hex();
  }
  EXPECT_TRUE(RenderTrace((*tracing)->store(), id).ok());
  (*tracing)->Shutdown(5000ms);
  ASSERT_EQ(receiver.requests().size(), 1u);
  auto body = nlohmann::json::parse(receiver.requests()[0].body);
  auto attributes = body["resourceSpans"][0]["resource"]["attributes"];
  ASSERT_EQ(attributes.size(), 2u);
  EXPECT_EQ(attributes[0]["value"]["stringValue"], "dte-worker");
  EXPECT_EQ(attributes[1]["key"], "service.instance.id");
  EXPECT_NE(metrics.Serialize().find("dte_trace_spans_exported_total 1"), std::string::npos);
}

TEST(TracingTest, WithoutEndpointKeepsTracesInMemoryOnly) {
  auto tracing = Tracing::Create(TracingOptions{}, nullptr);
  ASSERT_TRUE(tracing.ok());
  EXPECT_EQ((*tracing)->exporter(), nullptr);
  { Span s = (*tracing)->tracer().StartSpan("x"); }
  EXPECT_EQ((*tracing)->store().span_count(), 1u);
  (*tracing)->Shutdown(100ms);
}

TEST(TracingTest, RejectsBadOptions) {
  TracingOptions o;
  o.sample_ratio = 1.5;
  EXPECT_EQ(Tracing::Create(o, nullptr).status().code(), StatusCode::kInvalidArgument);
  o.sample_ratio = 0.5;
  o.otlp_endpoint = "https://collector:4318/v1/traces";
  EXPECT_EQ(Tracing::Create(o, nullptr).status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace dte
