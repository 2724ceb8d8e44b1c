#include "engine/step_cost.h"

#include <algorithm>
#include <cmath>

namespace dte {

StepCostModel::StepCostModel(double half_life) : decay_(std::exp2(-1.0 / std::max(1.0, half_life))) {}

void StepCostModel::Observe(int64_t tokens, double seconds) {
  if (tokens <= 0 || !(seconds >= 0)) return;
  const double x = static_cast<double>(tokens);
  w_ = w_ * decay_ + 1;
  x_ = x_ * decay_ + x;
  y_ = y_ * decay_ + seconds;
  xx_ = xx_ * decay_ + x * x;
  xy_ = xy_ * decay_ + x * seconds;
  ++n_;
}

// Affine fit when the step sizes vary enough to tell the fixed part from the per-token part;
// otherwise (or when the fit is not physical) proportional through the origin.
void StepCostModel::Fit(double* fixed, double* per_token) const {
  *fixed = 0;
  *per_token = 0;
  if (w_ <= 0 || x_ <= 0) return;
  const double mx = x_ / w_, my = y_ / w_;
  const double var = xx_ / w_ - mx * mx;
  const double cov = xy_ / w_ - mx * my;
  if (var > 0.01 * mx * mx && cov > 0) {
    const double b = cov / var;
    const double a = my - b * mx;
    if (a >= 0) {
      *fixed = a;
      *per_token = b;
      return;
    }
  }
  *per_token = my / mx;
}

int64_t StepCostModel::TokensWithin(double seconds, int64_t floor, int64_t ceiling) const {
  double a, b;
  Fit(&a, &b);
  if (n_ < 4 || b <= 0) return floor;
  const double tokens = (seconds - a) / b;
  if (!(tokens > static_cast<double>(floor))) return floor;
  if (tokens >= static_cast<double>(ceiling)) return ceiling;
  return static_cast<int64_t>(tokens);
}

double StepCostModel::fixed_seconds() const {
  double a, b;
  Fit(&a, &b);
  return a;
}

double StepCostModel::seconds_per_token() const {
  double a, b;
  Fit(&a, &b);
  return b;
}

}  // namespace dte
