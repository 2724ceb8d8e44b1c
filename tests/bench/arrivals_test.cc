// Arrival processes: each holds its mean rate within 2 % (over many arrivals, so the check is
// about the scheduler, not sampling noise), gamma has the requested burstiness, and the
// schedule follows rate ramps.
#include "bench/arrivals.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace dte::bench {
namespace {

Scenario Rate(double rate, double seconds, ArrivalKind kind, double cv = 1) {
  Scenario s;
  s.open_loop = true;
  s.arrival = kind;
  s.cv = cv;
  s.stages.push_back({seconds, rate, rate});
  return s;
}

std::vector<double> Times(const Scenario& s, uint64_t seed = 7) {
  ArrivalSchedule schedule(s, seed);
  std::vector<double> t;
  while (std::optional<double> at = schedule.Next()) t.push_back(*at);
  return t;
}

double GapCv(const std::vector<double>& t) {
  double sum = 0, sum2 = 0;
  const double n = static_cast<double>(t.size() - 1);
  for (size_t i = 1; i < t.size(); ++i) {
    const double g = t[i] - t[i - 1];
    sum += g;
    sum2 += g * g;
  }
  const double mean = sum / n;
  return std::sqrt(sum2 / n - mean * mean) / mean;
}

TEST(ArrivalsTest, EveryProcessHoldsItsRateWithinTwoPercent) {
  for (ArrivalKind kind : {ArrivalKind::kConstant, ArrivalKind::kPoisson, ArrivalKind::kGamma}) {
    for (double rate : {5.0, 1000.0, 20000.0}) {
      SCOPED_TRACE(std::string(ArrivalKindName(kind)) + " at " + std::to_string(rate));
      const double seconds = 200'000 / rate;  // ~200k arrivals: sampling noise ~0.2 %
      const std::vector<double> t = Times(Rate(rate, seconds, kind, 2.0));
      const double achieved = static_cast<double>(t.size()) / seconds;
      EXPECT_NEAR(achieved / rate, 1.0, 0.02);
      for (size_t i = 1; i < t.size(); ++i) ASSERT_LE(t[i - 1], t[i]);
      ASSERT_FALSE(t.empty());
      EXPECT_LT(t.back(), seconds);
    }
  }
}

TEST(ArrivalsTest, GapsHaveTheRequestedVariability) {
  EXPECT_NEAR(GapCv(Times(Rate(1000, 100, ArrivalKind::kConstant))), 0.0, 1e-4);
  EXPECT_NEAR(GapCv(Times(Rate(1000, 100, ArrivalKind::kPoisson))), 1.0, 0.05);
  EXPECT_NEAR(GapCv(Times(Rate(1000, 100, ArrivalKind::kGamma, 3.0))), 3.0, 0.15);
  EXPECT_NEAR(GapCv(Times(Rate(1000, 100, ArrivalKind::kGamma, 0.5))), 0.5, 0.03);
}

TEST(ArrivalsTest, SameSeedSameScheduleOtherSeedOther) {
  const Scenario s = Rate(100, 10, ArrivalKind::kPoisson);
  EXPECT_EQ(Times(s, 1), Times(s, 1));
  EXPECT_NE(Times(s, 1), Times(s, 2));
}

TEST(ArrivalsTest, FollowsARampAndSkipsSilentStages) {
  Scenario s;
  s.open_loop = true;
  s.arrival = ArrivalKind::kConstant;
  s.stages.push_back({10, 0, 0.0});       // silence
  s.stages.push_back({100, 2000, 0.0});   // 0 → 2000/s: 100,000 arrivals in all
  const std::vector<double> t = Times(s);
  ASSERT_FALSE(t.empty());
  EXPECT_GE(t.front(), 10.0);
  EXPECT_NEAR(static_cast<double>(t.size()), 100'000, 2'000);
  // In the second half of the ramp the rate averages 1500/s: 75,000 arrivals.
  size_t late = 0;
  for (double x : t) late += x >= 60;
  EXPECT_NEAR(static_cast<double>(late), 75'000, 1'500);
}

}  // namespace
}  // namespace dte::bench
