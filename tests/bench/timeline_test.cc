// Timeline: completions land in the interval of their completion time, with per-interval
// counts, rates and percentiles; the interval is a 1-2-5 value near a hundredth of the run.
#include "bench/timeline.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dte::bench {
namespace {

TEST(TimelineTest, PicksANiceIntervalNearAHundredthOfTheRun) {
  const SteadyClock::time_point t0 = SteadyClock::now();
  const std::pair<double, double> cases[] = {
      {1, 0.1}, {10, 0.1}, {60, 1}, {120, 2}, {300, 5}, {3600, 50}};
  for (const auto& [planned, interval] : cases) {
    Timeline t;
    t.Start(t0, planned);
    EXPECT_DOUBLE_EQ(t.interval_s(), interval) << planned;
  }
}

TEST(TimelineTest, BucketsByCompletionTime) {
  const SteadyClock::time_point t0 = SteadyClock::now();
  Timeline t;
  t.Start(t0, 100);  // 1 s intervals
  const auto at = [&](double s) {
    return t0 + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  t.Add(at(0.2), false, 10, 5'000'000, 50'000'000);  // interval 0
  t.Add(at(0.7), false, 30, 7'000'000, 70'000'000);  // interval 0
  t.Add(at(2.5), true, 0, std::nullopt, 1'000'000);  // interval 2: an error
  nlohmann::json j = nlohmann::json::parse(t.Json());
  EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 1.0);
  ASSERT_EQ(j["t_s"].size(), 3u);
  EXPECT_EQ(j["requests"], nlohmann::json::parse("[2,0,1]"));
  EXPECT_EQ(j["errors"], nlohmann::json::parse("[0,0,1]"));
  EXPECT_DOUBLE_EQ(j["requests_per_s"][0].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["output_tokens_per_s"][0].get<double>(), 40.0);
  EXPECT_NEAR(j["ttft_p50_ms"][0].get<double>(), 5.0, 0.05);
  EXPECT_NEAR(j["e2e_p99_ms"][0].get<double>(), 70.0, 0.5);
  EXPECT_TRUE(j["e2e_p50_ms"][1].is_null());  // nothing finished then: a gap in the chart
  EXPECT_TRUE(j["e2e_p50_ms"][2].is_null());  // only an error
}

}  // namespace
}  // namespace dte::bench
