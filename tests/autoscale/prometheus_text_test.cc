// The exposition parser against hand-written text (escapes, special values, malformed lines)
// and against what our own MetricsRegistry (prometheus-cpp) really serializes.

#include "autoscale/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>

#include "telemetry/metrics_registry.h"

namespace dte::autoscale {
namespace {

TEST(PrometheusTextTest, ParsesCountersGaugesLabelsAndComments) {
  const char* text =
      "# HELP dte_requests_total HTTP requests.\n"
      "# TYPE dte_requests_total counter\n"
      "dte_requests_total{route=\"/v1/completions\",code=\"200\"} 12\n"
      "dte_requests_total{route=\"/v1/completions\",code=\"503\"} 3 1700000000000\n"
      "dte_requests_total{code=\"200\",route=\"/metrics\",} 7\n"
      "\n"
      "# TYPE dte_queue_depth gauge\r\n"
      "dte_queue_depth 4.5\r\n"
      "weird_value{a=\"x\\\"y\\\\z\\nw\"} -1.5e3\n";
  Result<MetricSet> m = ParsePrometheusText(text);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->samples.size(), 5u);
  EXPECT_EQ(m->TypeOf("dte_requests_total"), "counter");
  EXPECT_EQ(m->TypeOf("dte_queue_depth"), "gauge");
  EXPECT_EQ(m->TypeOf("nothing"), "");
  EXPECT_DOUBLE_EQ(*m->Sum("dte_requests_total"), 22);
  EXPECT_DOUBLE_EQ(*m->Sum("dte_requests_total", {{"route", "/v1/completions"}}), 15);
  EXPECT_DOUBLE_EQ(*m->Sum("dte_requests_total", {{"code", "503"}}), 3);
  EXPECT_FALSE(m->Sum("dte_requests_total", {{"code", "404"}}).has_value());
  EXPECT_DOUBLE_EQ(*m->Sum("dte_queue_depth"), 4.5);
  EXPECT_EQ(m->samples[4].Label("a").value(), "x\"y\\z\nw");
  EXPECT_DOUBLE_EQ(m->samples[4].value, -1500);
}

TEST(PrometheusTextTest, SpecialValues) {
  Result<MetricSet> m = ParsePrometheusText("a NaN\nb +Inf\nc -Inf\nd 1e-3\n");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::isnan(m->samples[0].value));
  EXPECT_TRUE(std::isinf(m->samples[1].value) && m->samples[1].value > 0);
  EXPECT_TRUE(std::isinf(m->samples[2].value) && m->samples[2].value < 0);
  EXPECT_DOUBLE_EQ(m->samples[3].value, 0.001);
}

TEST(PrometheusTextTest, RejectsMalformedLinesWithTheLineNumber) {
  const char* bad[] = {"a{b=\"c\" 1\n", "a{b=c} 1\n", "a 1 2 3\n", "a{b=\"\\q\"} 1\n",
                       "a\n",           "a twelve\n", "9a 1\n",    "# TYPE a\n"};
  for (const char* text : bad) {
    Result<MetricSet> m = ParsePrometheusText(std::string("ok 1\n") + text);
    EXPECT_FALSE(m.ok()) << text;
    if (!m.ok()) {
      EXPECT_NE(m.status().message().find("line 2"), std::string::npos) << m.status().ToString();
    }
  }
}

TEST(PrometheusTextTest, HistogramBucketsAndQuantile) {
  const char* text =
      "# TYPE ttft histogram\n"
      "ttft_bucket{le=\"0.1\"} 10\n"
      "ttft_bucket{le=\"1\"} 90\n"
      "ttft_bucket{le=\"+Inf\"} 100\n"
      "ttft_sum 30\n"
      "ttft_count 100\n";
  Result<MetricSet> m = ParsePrometheusText(text);
  ASSERT_TRUE(m.ok());
  std::vector<Bucket> b = m->HistogramBuckets("ttft");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_DOUBLE_EQ(b[0].upper_bound, 0.1);
  EXPECT_TRUE(std::isinf(b[2].upper_bound));
  // p50: rank 50 lies in (0.1, 1] holding 80 observations from 10: 0.1 + 0.9 * 40/80.
  EXPECT_NEAR(*BucketQuantile(0.5, b, {}), 0.1 + 0.9 * 40.0 / 80.0, 1e-12);
  // p95 lies in the +Inf bucket: the highest finite bound.
  EXPECT_DOUBLE_EQ(*BucketQuantile(0.95, b, {}), 1.0);
  // Deltas: since a snapshot that had 10 in the first bucket and nothing else, the new 90
  // observations are all in (0.1, 1] and (1, inf).
  std::vector<Bucket> before = {{0.1, 10}, {1, 10}, {INFINITY, 10}};
  EXPECT_NEAR(*BucketQuantile(0.5, b, before), 0.1 + 0.9 * 45.0 / 80.0, 1e-12);
  EXPECT_FALSE(BucketQuantile(0.5, before, before).has_value());  // nothing new
  std::vector<Bucket> other_bounds = {{0.2, 0}, {1, 0}, {INFINITY, 0}};
  EXPECT_FALSE(BucketQuantile(0.5, b, other_bounds).has_value());
}

TEST(PrometheusTextTest, ReadsWhatOurRegistrySerializes) {
  MetricsRegistry registry;
  auto& requests =
      prometheus::BuildCounter().Name("dte_requests_total").Help("h").Register(registry.registry());
  requests.Add({{"route", "/v1/completions"}, {"code", "200"}}).Increment(5);
  requests.Add({{"route", "/v1/chat/completions"}, {"code", "500"}}).Increment(2);
  auto& queue = prometheus::BuildGauge()
                    .Name("dte_queue_depth")
                    .Help("h")
                    .Register(registry.registry())
                    .Add({});
  queue.Set(3);
  auto& hist = prometheus::BuildHistogram()
                   .Name("dte_time_to_first_token_seconds")
                   .Help("h")
                   .Register(registry.registry())
                   .Add({}, MetricsRegistry::ExponentialBuckets(0.001, 2, 17));
  for (int i = 0; i < 100; ++i) hist.Observe(i < 90 ? 0.05 : 3.0);
  Result<MetricSet> m = ParsePrometheusText(registry.Serialize());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->TypeOf("dte_time_to_first_token_seconds"), "histogram");
  EXPECT_DOUBLE_EQ(*m->Sum("dte_requests_total"), 7);
  EXPECT_DOUBLE_EQ(*m->Sum("dte_queue_depth"), 3);
  EXPECT_TRUE(m->Sum("process_cpu_seconds_total").has_value());
  std::vector<Bucket> b = m->HistogramBuckets("dte_time_to_first_token_seconds");
  ASSERT_EQ(b.size(), 18u);
  EXPECT_DOUBLE_EQ(b.back().count, 100);
  // p95 falls among the 3 s observations: in the (2.048, 4.096] bucket.
  const double p95 = *BucketQuantile(0.95, b, {});
  EXPECT_GT(p95, 2.048);
  EXPECT_LE(p95, 4.096);
}

}  // namespace
}  // namespace dte::autoscale
