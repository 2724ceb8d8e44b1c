#include "bench/arrivals.h"

#include <algorithm>

namespace dte::bench {

GapSampler::GapSampler(ArrivalKind kind, double cv, uint64_t seed)
    : kind_(kind),
      rng_(seed),
      gamma_(kind == ArrivalKind::kGamma ? 1.0 / (cv * cv) : 1.0,
             kind == ArrivalKind::kGamma ? cv * cv : 1.0) {}

double GapSampler::Next() {
  switch (kind_) {
    case ArrivalKind::kConstant:
      return 1.0;
    case ArrivalKind::kPoisson:
      return exp_(rng_);
    case ArrivalKind::kGamma:
      return gamma_(rng_);
  }
  return 1.0;
}

ArrivalSchedule::ArrivalSchedule(const Scenario& scenario, uint64_t seed)
    : scenario_(scenario), end_(scenario.DurationS()), gaps_(scenario.arrival, scenario.cv, seed) {}

std::optional<double> ArrivalSchedule::Next() {
  // A constant process starts with a request at once; random ones start with a random gap.
  double need = first_ && scenario_.arrival == ArrivalKind::kConstant ? 0.0 : gaps_.Next();
  first_ = false;
  constexpr double kSlice = 0.01;
  while (t_ < end_) {
    const double rate = scenario_.ValueAt(t_);
    if (need <= 0 && rate > 0) return t_;
    double slice_end = std::min(end_, (static_cast<int64_t>(t_ / kSlice) + 1) * kSlice);
    if (slice_end <= t_) slice_end = std::min(end_, t_ + kSlice);  // rounding at a boundary
    if (rate <= 0) {
      t_ = slice_end;
      continue;
    }
    const double reach = t_ + need / rate;
    if (reach < slice_end) {
      t_ = reach;
      return reach < end_ ? std::optional<double>(t_) : std::nullopt;
    }
    need -= (slice_end - t_) * rate;
    t_ = slice_end;
  }
  return std::nullopt;
}

}  // namespace dte::bench
