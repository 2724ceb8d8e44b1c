// The router's /metrics reader and the per-interval fleet measurements built from it.

#include "router/fleet_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "router/prom_text.h"

namespace dte::router {
namespace {

std::string WorkerText(double fast, double slow, double ok, double refused, double hits,
                       double misses, double queue) {
  // TTFT buckets: `fast` answers under 0.1 s, `slow` between 1 and 2.5 s.
  const auto n = [](double v) { return std::to_string(v); };
  return "# HELP dte_time_to_first_token_seconds x\n# TYPE dte_time_to_first_token_seconds "
         "histogram\n"
         "dte_time_to_first_token_seconds_bucket{le=\"0.1\"} " +
         n(fast) +
         "\n"
         "dte_time_to_first_token_seconds_bucket{le=\"1\"} " +
         n(fast) +
         "\n"
         "dte_time_to_first_token_seconds_bucket{le=\"2.5\"} " +
         n(fast + slow) +
         "\n"
         "dte_time_to_first_token_seconds_bucket{le=\"+Inf\"} " +
         n(fast + slow) +
         "\n"
         "dte_requests_total{route=\"/v1/completions\",code=\"200\"} " +
         n(ok) +
         "\n"
         "dte_requests_total{route=\"/v1/completions\",code=\"429\"} " +
         n(refused) +
         "\n"
         "dte_cache_hits_total{tier=\"l1\"} " +
         n(hits) +
         "\n"
         "dte_cache_misses_total{tier=\"l1\"} " +
         n(misses) +
         "\n"
         "dte_queue_depth " +
         n(queue) +
         "\n"
         "dte_active_sequences 2\n"
         "process_resident_memory_bytes 1.5e+08 1764232814000\n"
         "dte_state_bytes 4096\n";
}

TEST(PromTextTest, ParsesNamesLabelsValuesAndSkipsJunk) {
  const auto s = ParsePromText(
      "# TYPE a counter\na_total{x=\"1\",y=\"q\\\"z\"} 3\nb 2.5 123\nbroken{x=\"1\" 4\nc "
      "NaN-ish\n\nd +Inf\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "a_total");
  EXPECT_EQ(s[0].labels.at("y"), "q\"z");
  EXPECT_EQ(s[0].value, 3);
  EXPECT_EQ(s[1].value, 2.5);  // the timestamp is dropped
  EXPECT_TRUE(std::isinf(s[2].value));
  EXPECT_EQ(SumSeries(s, "a_total", {{"x", "1"}}), 3.0);
  EXPECT_EQ(SumSeries(s, "a_total", {{"x", "2"}}), std::nullopt);
  EXPECT_EQ(SumSeries(s, "missing"), std::nullopt);
}

TEST(PromTextTest, QuantilesInterpolateInsideTheBucket) {
  Buckets b = {{0.1, 50}, {1.0, 100}, {std::numeric_limits<double>::infinity(), 100}};
  EXPECT_NEAR(*HistogramQuantile(b, 0.5), 0.1, 1e-12);
  EXPECT_NEAR(*HistogramQuantile(b, 0.75), 0.55, 1e-12);
  EXPECT_NEAR(*HistogramQuantile(b, 0.25), 0.05, 1e-12);
  Buckets tail = {{1.0, 1}, {std::numeric_limits<double>::infinity(), 10}};
  EXPECT_EQ(*HistogramQuantile(tail, 0.99), 1.0);  // in +Inf: the last finite bound
  EXPECT_EQ(HistogramQuantile({}, 0.5), std::nullopt);
  EXPECT_EQ(HistogramQuantile({{1.0, 0}}, 0.5), std::nullopt);
  // A counter reset (restart) counts the new value.
  Buckets d = BucketDelta({{1.0, 3}}, {{1.0, 10}});
  EXPECT_EQ(d[1.0], 3);
}

TEST(FleetTrackerTest, DifferencesCountersBetweenScrapes) {
  FleetTracker tracker;
  const auto t0 = SteadyClock::now();
  std::map<std::string, std::vector<PromSample>> scrape = {
      {"http://w1", ParsePromText(WorkerText(100, 0, 100, 0, 10, 10, 1))},
      {"http://w2", ParsePromText(WorkerText(50, 0, 50, 0, 0, 0, 2))}};
  FleetSnapshot first = tracker.Update(t0, scrape, 150, 0);
  // First sight: gauges only; no interval measurements yet.
  EXPECT_EQ(first.alert.latency_p95_seconds, std::nullopt);
  EXPECT_EQ(first.alert.error_ratio, std::nullopt);
  EXPECT_EQ(first.alert.queue_depth, 3.0);
  EXPECT_EQ(first.alert.rss_bytes, 1.5e8);
  EXPECT_EQ(first.dashboard.active_sequences, 4.0);
  EXPECT_EQ(first.workers.at("http://w2").queue_depth, 2.0);

  // Over 10 s: w1 answers 10 slow and 10 fast, 20 refused; the router saw 40, 4 of them 5xx.
  scrape["http://w1"] = ParsePromText(WorkerText(110, 10, 120, 20, 40, 20, 5));
  FleetSnapshot second = tracker.Update(t0 + std::chrono::seconds(10), scrape, 190, 4);
  ASSERT_TRUE(second.alert.latency_p95_seconds.has_value());
  EXPECT_GT(*second.alert.latency_p95_seconds, 1.0);  // half the interval's answers were slow
  EXPECT_LT(*second.dashboard.ttft_p50, 1.0 + 1e-9);
  EXPECT_NEAR(*second.alert.rejected_per_second, 2.0, 1e-9);
  EXPECT_NEAR(*second.alert.error_ratio, 0.1, 1e-9);
  EXPECT_NEAR(*second.dashboard.request_rate, 4.0, 1e-9);
  EXPECT_NEAR(second.dashboard.cache_hit_ratio.at("l1"), 30.0 / 40.0, 1e-9);
  EXPECT_EQ(second.dashboard.workers, 2.0);

  // A quiet interval: no traffic means no ratio (an alert must not fire on nothing).
  FleetSnapshot third = tracker.Update(t0 + std::chrono::seconds(20), scrape, 190, 4);
  EXPECT_EQ(third.alert.error_ratio, std::nullopt);
  EXPECT_EQ(third.alert.latency_p95_seconds, std::nullopt);
  EXPECT_NEAR(*third.dashboard.request_rate, 0.0, 1e-12);
  EXPECT_EQ(third.alert.rejected_per_second, 0.0);
}

// Steps by phase: decode-only steps feed the decode limit, prefill and mixed steps the prefill
// limit; the queue capacity comes with the depth so the saturation rule can see a full queue.
std::string StepText(double decode_fast, double decode_slow, double prefill_slow, double mixed_slow,
                     double queue, std::optional<double> capacity) {
  const auto n = [](double v) { return std::to_string(v); };
  std::string t = "# TYPE dte_step_duration_seconds histogram\n";
  const auto phase = [&](const char* p, double under_10ms, double under_4s) {
    t += std::string("dte_step_duration_seconds_bucket{phase=\"") + p + "\",le=\"0.01\"} " +
         n(under_10ms) + "\n";
    t += std::string("dte_step_duration_seconds_bucket{phase=\"") + p + "\",le=\"4\"} " +
         n(under_10ms + under_4s) + "\n";
    t += std::string("dte_step_duration_seconds_bucket{phase=\"") + p + "\",le=\"+Inf\"} " +
         n(under_10ms + under_4s) + "\n";
  };
  phase("decode", decode_fast, decode_slow);
  phase("prefill", 0, prefill_slow);
  phase("mixed", 0, mixed_slow);
  t += "dte_queue_depth " + n(queue) + "\n";
  if (capacity) t += "dte_queue_capacity " + n(*capacity) + "\n";
  return t;
}

TEST(FleetTrackerTest, SplitsStepPhasesAndReadsQueueCapacity) {
  FleetTracker tracker;
  const auto t0 = SteadyClock::now();
  std::map<std::string, std::vector<PromSample>> scrape = {
      {"http://w1", ParsePromText(StepText(0, 0, 0, 0, 90, 100))},
      {"http://w2", ParsePromText(StepText(0, 0, 0, 0, 5, 100))}};
  FleetSnapshot first = tracker.Update(t0, scrape, 0, 0);
  EXPECT_EQ(first.alert.queue_depth, 95.0);
  EXPECT_EQ(first.alert.queue_capacity, 200.0);
  EXPECT_EQ(first.alert.decode_step_p95_seconds, std::nullopt);

  // 100 fast decode steps and 100 slow prefill steps: the decode p95 stays under 10 ms.
  scrape["http://w1"] = ParsePromText(StepText(100, 0, 100, 0, 90, 100));
  FleetSnapshot second = tracker.Update(t0 + std::chrono::seconds(10), scrape, 0, 0);
  ASSERT_TRUE(second.alert.decode_step_p95_seconds.has_value());
  ASSERT_TRUE(second.alert.prefill_step_p95_seconds.has_value());
  EXPECT_LE(*second.alert.decode_step_p95_seconds, 0.01);
  EXPECT_GT(*second.alert.prefill_step_p95_seconds, 1.0);

  // Slow decode steps now, and mixed steps count as prefill.
  scrape["http://w1"] = ParsePromText(StepText(100, 100, 100, 50, 90, 100));
  FleetSnapshot third = tracker.Update(t0 + std::chrono::seconds(20), scrape, 0, 0);
  EXPECT_GT(*third.alert.decode_step_p95_seconds, 1.0);
  EXPECT_GT(*third.alert.prefill_step_p95_seconds, 1.0);

  // A worker without dte_queue_capacity: no capacity (the total would understate the fill).
  scrape["http://w2"] = ParsePromText(StepText(0, 0, 0, 0, 5, std::nullopt));
  FleetSnapshot fourth = tracker.Update(t0 + std::chrono::seconds(30), scrape, 0, 0);
  EXPECT_EQ(fourth.alert.queue_capacity, std::nullopt);
  EXPECT_EQ(fourth.alert.queue_depth, 95.0);
}

}  // namespace
}  // namespace dte::router
