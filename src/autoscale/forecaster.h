#pragma once
// RateForecaster: Holt-Winters exponential smoothing with additive seasonality of a rate
// (requests/s) observed at roughly regular times; without a season it is Holt's linear trend.
// Times are seconds on any monotonic clock and need not be evenly spaced: the trend is kept
// per second, and the season is a ring of `season_s / slot_s` slots indexed by the time.
//
//   level_t  = a (y_t - s[slot t]) + (1 - a)(level + trend dt)
//   trend_t  = b (level_t - level) / dt + (1 - b) trend
//   s[slot t]= g (y_t - level_t) + (1 - g) s[slot t]
//   forecast(h) = max(0, level + trend h + s[slot(t + h)])
//
// Seasonal slots start at 0 and are learnt during the first seasons; with a season, use a
// small alpha (about 0.05 for 5 s samples), or the level follows the wave and absorbs it. Not
// thread-safe: one owner (the Autoscaler) calls it.

#include <cstddef>
#include <vector>

namespace dte::autoscale {

struct ForecastOptions {
  double alpha = 0.2;                // level smoothing
  double beta = 0.02;                // trend smoothing
  double gamma = 0.2;                // seasonal smoothing
  double season_s = 0;               // season length in seconds; 0: no seasonality (Holt)
  double slot_s = 60;                // width of one seasonal slot
  double max_trend_horizon_s = 600;  // a forecast extrapolates the trend at most this far
};

class RateForecaster {
 public:
  explicit RateForecaster(ForecastOptions options = {});

  void Observe(double time_s, double value);
  // The rate expected `horizon_s` after the last observation (0 before the first).
  double Forecast(double horizon_s) const;
  double level() const { return level_; }
  double trend() const { return trend_; }  // per second
  size_t observations() const { return n_; }

 private:
  size_t SlotOf(double time_s) const;
  double Seasonal(double time_s) const;

  ForecastOptions options_;
  std::vector<double> season_;  // empty without seasonality
  double level_ = 0;
  double trend_ = 0;
  double last_time_s_ = 0;
  size_t n_ = 0;
};

}  // namespace dte::autoscale
