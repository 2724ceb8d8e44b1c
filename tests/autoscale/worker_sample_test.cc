// WorkerSample extraction from a scrape and the rates / TTFT p95 between two scrapes.

#include "autoscale/worker_sample.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace dte::autoscale {
namespace {

std::string Scrape(double completions, double errors, double metrics_hits, double queue,
                   double active, double cpu, double fast, double slow) {
  auto n = [](double v) { return std::to_string(v); };
  return "dte_requests_total{route=\"/v1/completions\",code=\"200\"} " + n(completions) + "\n" +
         "dte_requests_total{route=\"/v1/chat/completions\",code=\"503\"} " + n(errors) + "\n" +
         "dte_requests_total{route=\"/metrics\",code=\"200\"} " + n(metrics_hits) + "\n" +
         "dte_queue_depth " + n(queue) + "\n" + "dte_active_sequences " + n(active) + "\n" +
         "process_cpu_seconds_total " + n(cpu) + "\n" +
         "dte_time_to_first_token_seconds_bucket{le=\"0.5\"} " + n(fast) + "\n" +
         "dte_time_to_first_token_seconds_bucket{le=\"4\"} " + n(fast + slow) + "\n" +
         "dte_time_to_first_token_seconds_bucket{le=\"+Inf\"} " + n(fast + slow) + "\n";
}

WorkerSample Sample(const std::string& text, double t) {
  Result<MetricSet> m = ParsePrometheusText(text);
  EXPECT_TRUE(m.ok());
  Result<WorkerSample> s = SampleFromMetrics(*m, t);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(WorkerSampleTest, ExtractsLoadRoutesOnly) {
  WorkerSample s = Sample(Scrape(10, 2, 50, 3, 5, 7.5, 1, 1), 0);
  EXPECT_DOUBLE_EQ(s.requests_total, 12);  // /metrics scrapes are not load
  EXPECT_DOUBLE_EQ(s.errors_total, 2);
  EXPECT_DOUBLE_EQ(s.queue_depth, 3);
  EXPECT_DOUBLE_EQ(s.active_sequences, 5);
  EXPECT_DOUBLE_EQ(s.cpu_seconds, 7.5);
  EXPECT_EQ(s.ttft_buckets.size(), 3u);
}

TEST(WorkerSampleTest, RefusesAScrapeWithoutOurSeries) {
  Result<MetricSet> m = ParsePrometheusText("node_load1 0.5\n");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(SampleFromMetrics(*m, 0).ok());
}

TEST(WorkerSampleTest, RatesAndP95FromDeltas) {
  WorkerSample a = Sample(Scrape(10, 0, 1, 0, 2, 10, 100, 0), 100);
  WorkerSample b = Sample(Scrape(30, 5, 9, 4, 6, 13, 110, 90), 105);
  WorkerLoad l = LoadBetween(&a, b);
  EXPECT_DOUBLE_EQ(l.request_rate, (35.0 - 10.0) / 5);
  EXPECT_DOUBLE_EQ(l.error_rate, 1.0);
  EXPECT_DOUBLE_EQ(l.cpu_cores, 3.0 / 5);
  EXPECT_DOUBLE_EQ(l.queue_depth, 4);
  EXPECT_DOUBLE_EQ(l.active_sequences, 6);
  EXPECT_DOUBLE_EQ(l.ttft_count, 100);
  // Only the 100 new observations count: 10 fast, 90 slow, so p95 lies in (0.5, 4].
  ASSERT_TRUE(l.ttft_p95.has_value());
  EXPECT_NEAR(*l.ttft_p95, 0.5 + 3.5 * (95.0 - 10.0) / 90.0, 1e-9);
  // All-time p95 would have been much lower (the 100 old fast ones dilute it).
  EXPECT_LT(*BucketQuantile(0.95, b.ttft_buckets, {}), *l.ttft_p95);
}

TEST(WorkerSampleTest, CounterResetCountsFromZero) {
  WorkerSample a = Sample(Scrape(1000, 0, 1, 0, 0, 500, 1000, 0), 0);
  WorkerSample b = Sample(Scrape(10, 0, 1, 0, 0, 2, 0, 10), 10);  // the worker restarted
  WorkerLoad l = LoadBetween(&a, b);
  EXPECT_DOUBLE_EQ(l.request_rate, 1.0);
  EXPECT_DOUBLE_EQ(l.cpu_cores, 0.2);
  EXPECT_DOUBLE_EQ(l.ttft_count, 10);
}

TEST(WorkerSampleTest, FirstScrapeHasGaugesOnly) {
  WorkerLoad l = LoadBetween(nullptr, Sample(Scrape(10, 0, 0, 2, 3, 1, 1, 1), 0));
  EXPECT_DOUBLE_EQ(l.queue_depth, 2);
  EXPECT_DOUBLE_EQ(l.request_rate, 0);
  EXPECT_FALSE(l.ttft_p95.has_value());
}

}  // namespace
}  // namespace dte::autoscale
