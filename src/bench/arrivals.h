#pragma once
// Open-loop arrival processes: when requests are due, independent of when earlier ones end.
//
// GapSampler draws inter-arrival gaps of mean 1 (in "operational time"): constant (always 1),
// Poisson (exponential gaps, CV 1) or gamma (shape 1/CV², so CV > 1 is burstier than Poisson
// and CV < 1 more regular). ArrivalSchedule turns those into send times under a rate that
// may change over time (a Scenario's rate stages): the gap is consumed at the current rate,
// integrated in slices of at most 10 ms, so ramps are followed closely.
//
// Deterministic for a seed. Not synchronized: the open-loop scheduler owns one.

#include <cstdint>
#include <optional>
#include <random>

#include "bench/scenario.h"

namespace dte::bench {

class GapSampler {
 public:
  GapSampler(ArrivalKind kind, double cv, uint64_t seed);
  double Next();  // mean 1

 private:
  ArrivalKind kind_;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> exp_{1.0};
  std::gamma_distribution<double> gamma_;
};

class ArrivalSchedule {
 public:
  // `scenario` must be open loop.
  ArrivalSchedule(const Scenario& scenario, uint64_t seed);
  // Seconds from the start at which the next request is due; nullopt past the end.
  std::optional<double> Next();

 private:
  const Scenario scenario_;
  const double end_;
  GapSampler gaps_;
  double t_ = 0;
  bool first_ = true;
};

}  // namespace dte::bench
