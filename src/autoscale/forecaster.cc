#include "autoscale/forecaster.h"

#include <algorithm>
#include <cmath>

namespace dte::autoscale {

RateForecaster::RateForecaster(ForecastOptions options) : options_(options) {
  if (options_.season_s > 0 && options_.slot_s > 0) {
    const size_t slots = static_cast<size_t>(std::llround(options_.season_s / options_.slot_s));
    if (slots >= 2) season_.assign(slots, 0.0);
  }
}

size_t RateForecaster::SlotOf(double time_s) const {
  const double k = std::floor(time_s / options_.slot_s);
  const double m = static_cast<double>(season_.size());
  return static_cast<size_t>(k - m * std::floor(k / m));
}

double RateForecaster::Seasonal(double time_s) const {
  return season_.empty() ? 0.0 : season_[SlotOf(time_s)];
}

void RateForecaster::Observe(double time_s, double value) {
  if (n_ == 0) {
    level_ = value;
    trend_ = 0;
    last_time_s_ = time_s;
    n_ = 1;
    return;
  }
  const double dt = time_s - last_time_s_;
  if (!(dt > 0)) return;  // out of order or duplicate: ignore
  const double a = options_.alpha, b = options_.beta, g = options_.gamma;
  const double s = Seasonal(time_s);
  const double previous_level = level_;
  level_ = a * (value - s) + (1 - a) * (level_ + trend_ * dt);
  trend_ = b * (level_ - previous_level) / dt + (1 - b) * trend_;
  if (!season_.empty()) season_[SlotOf(time_s)] = g * (value - level_) + (1 - g) * s;
  last_time_s_ = time_s;
  ++n_;
}

double RateForecaster::Forecast(double horizon_s) const {
  if (n_ == 0) return 0;
  const double h = std::clamp(horizon_s, 0.0, options_.max_trend_horizon_s);
  return std::max(0.0, level_ + trend_ * h + Seasonal(last_time_s_ + horizon_s));
}

}  // namespace dte::autoscale
