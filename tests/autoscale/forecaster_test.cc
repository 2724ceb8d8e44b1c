// Holt's linear trend and Holt-Winters additive seasonality on synthetic rate series.

#include "autoscale/forecaster.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dte::autoscale {
namespace {

TEST(ForecasterTest, EmptyForecastsZero) {
  RateForecaster f;
  EXPECT_EQ(f.Forecast(60), 0);
  EXPECT_EQ(f.observations(), 0u);
}

TEST(ForecasterTest, HoltLearnsALinearTrend) {
  RateForecaster f;  // no season
  for (double t = 0; t <= 1200; t += 5) f.Observe(t, 2 + 0.01 * t);
  EXPECT_NEAR(f.trend(), 0.01, 0.001);
  // 60 s after t=1200: 2 + 0.01 * 1260 = 14.6.
  EXPECT_NEAR(f.Forecast(60), 14.6, 0.2);
  EXPECT_GT(f.Forecast(60), f.level());
}

TEST(ForecasterTest, NeverForecastsBelowZero) {
  RateForecaster f;
  for (double t = 0; t <= 600; t += 5) f.Observe(t, std::max(0.0, 10 - 0.05 * t));
  EXPECT_GE(f.Forecast(600), 0.0);
}

TEST(ForecasterTest, IgnoresOutOfOrderSamples) {
  RateForecaster f;
  f.Observe(10, 5);
  f.Observe(20, 5);
  f.Observe(15, 500);
  EXPECT_EQ(f.observations(), 2u);
  EXPECT_NEAR(f.level(), 5, 1e-12);
}

// A daily-like cycle compressed to 600 s: rate 10 + 5 sin(2 pi t / 600).
double Wave(double t) { return 10 + 5 * std::sin(2 * M_PI * t / 600); }

TEST(ForecasterTest, HoltWintersForecastsTheSeasonalRise) {
  ForecastOptions seasonal;
  seasonal.season_s = 600;
  seasonal.slot_s = 30;
  seasonal.gamma = 0.3;
  seasonal.alpha = 0.05;  // the level must move slower than the season, or it absorbs it
  RateForecaster hw(seasonal);
  RateForecaster holt;
  double t = 0;
  for (; t < 6 * 600; t += 5) {
    hw.Observe(t, Wave(t));
    holt.Observe(t, Wave(t));
  }
  // Error of the 120 s-ahead forecast over the next season, each model updated as it goes.
  double hw_error = 0, holt_error = 0;
  for (double end = t + 600; t < end; t += 5) {
    hw_error += std::abs(hw.Forecast(120) - Wave(t - 5 + 120));
    holt_error += std::abs(holt.Forecast(120) - Wave(t - 5 + 120));
    hw.Observe(t, Wave(t));
    holt.Observe(t, Wave(t));
  }
  EXPECT_LT(hw_error, 0.2 * holt_error) << "hw " << hw_error << " holt " << holt_error;
  // At the trough (t = 450 mod 600) the seasonal model already sees the rise 120 s later.
  RateForecaster at_trough(seasonal);
  for (double s = 0; s <= 5 * 600 + 450; s += 5) at_trough.Observe(s, Wave(s));
  EXPECT_GT(at_trough.Forecast(120), Wave(5 * 600 + 450) + 1.5);
}

}  // namespace
}  // namespace dte::autoscale
