#include "telemetry/time_series.h"

#include "telemetry/dashboard_summary.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dte {
namespace {

TEST(TimeSeriesRingTest, KeepsTheLastNPointsOldestFirst) {
  TimeSeriesRing ring(3);
  EXPECT_TRUE(ring.empty());
  for (int i = 1; i <= 5; ++i) ring.Add(i * 1000, i * 10.0);
  ASSERT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.at(0).unix_ms, 3000);
  EXPECT_EQ(ring.back().value, 50.0);
  auto points = ring.Points();
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[1].value, 40.0);
  ring.Add(6000, std::nan(""));
  auto j = ring.ToJson();
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[2][0], 6000);
  EXPECT_TRUE(j[2][1].is_null());  // gaps stay gaps
  EXPECT_EQ(ring.ToJson(5000).size(), 2u);
}

TEST(DashboardHistoryTest, SummaryHasSeriesEventsAndExtraSections) {
  DashboardHistory h(4, 2);
  for (int i = 0; i < 6; ++i) {
    h.Record("request_rate", 1000 * i, i);
    h.Record("cache_hit_ratio.l1", 1000 * i, 0.5);
  }
  h.AddScalingEvent({1000, 1, 2, "queue"});
  h.AddScalingEvent({2000, 2, 3, "queue"});
  h.AddScalingEvent({3000, 3, 2, "idle"});
  auto s = h.Summary(7000, 1000, {{"alerts", nlohmann::json::array({{{"name", "x"}}})}});
  EXPECT_EQ(s["generated_at_ms"], 7000);
  EXPECT_EQ(s["interval_ms"], 1000);
  ASSERT_EQ(s["series"]["request_rate"].size(), 4u);
  EXPECT_EQ(s["series"]["request_rate"][3][1], 5.0);
  EXPECT_EQ(s["series"]["cache_hit_ratio.l1"].size(), 4u);
  ASSERT_EQ(s["scaling_events"].size(), 2u);
  EXPECT_EQ(s["scaling_events"][1]["reason"], "idle");
  EXPECT_EQ(s["alerts"][0]["name"], "x");
  EXPECT_TRUE(s["workers"].is_array());
  EXPECT_TRUE(s["traces"].is_array());
  EXPECT_EQ(h.Summary(7000, 1000, {}, 4000)["series"]["request_rate"].size(), 2u);
}

}  // namespace
}  // namespace dte

namespace dte {
namespace {

TEST(DashboardSummaryTest, TypedSamplesBecomeTheSeriesTheDashboardDraws) {
  DashboardHistory history(10);
  DashboardSample s;
  s.request_rate = 12.5;
  s.ttft_p95 = 0.2;
  s.workers = 2;
  s.cache_hit_ratio = {{"l1", 0.75}, {"l2", 0.25}};
  RecordDashboardSample(history, 1000, s);
  s.request_rate.reset();  // no traffic measured this tick: a gap
  RecordDashboardSample(history, 2000, s);

  AlertEvaluator alerts(AlertConfig{.error_rate_for = std::chrono::seconds(0)});
  AlertMetrics m;
  m.error_ratio = 0.5;
  alerts.Evaluate(WallTime(std::chrono::seconds(1000)), m);
  Tracer tracer;
  auto store = std::make_shared<TraceStore>();
  tracer.AddSink(store);
  { Span span = tracer.StartSpan("router.proxy"); }

  auto j = nlohmann::json::parse(RenderDashboardSummary(
      history, 3000, 1000, &alerts, store.get(), nlohmann::json::array({{{"id", "w1"}, {"state", "ready"}}})));
  EXPECT_EQ(j["series"]["request_rate"][0][1], 12.5);
  EXPECT_TRUE(j["series"]["request_rate"][1][1].is_null());
  EXPECT_EQ(j["series"]["ttft_p95"].size(), 2u);
  EXPECT_TRUE(j["series"]["ttft_p50"][0][1].is_null());
  EXPECT_EQ(j["series"]["cache_hit_ratio.l1"][1][1], 0.75);
  EXPECT_EQ(j["series"]["workers"][1][1], 2.0);
  ASSERT_EQ(j["alerts"].size(), 1u);
  EXPECT_EQ(j["alerts"][0]["name"], "high_error_rate");
  ASSERT_EQ(j["traces"].size(), 1u);
  EXPECT_EQ(j["traces"][0]["name"], "router.proxy");
  EXPECT_EQ(j["workers"][0]["id"], "w1");
  EXPECT_EQ(j["generated_at_ms"], 3000);
}

}  // namespace
}  // namespace dte
