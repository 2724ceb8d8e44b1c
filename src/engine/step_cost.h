#pragma once
// StepCostModel: how long a scheduler step takes as a function of the tokens in it, learned
// from the steps actually run (so it follows the model, the kernels, the thread count and
// whatever else the machine is doing). Fits seconds ≈ fixed + per_token × tokens by
// exponentially weighted least squares over recent steps; the scheduler asks it how many
// tokens fit in its target step time (a compute-aware token budget).
//
// Not thread-safe: owned by the scheduler thread.

#include <cstdint>

namespace dte {

class StepCostModel {
 public:
  // Each observation's weight halves after `half_life` further observations.
  explicit StepCostModel(double half_life = 32);

  void Observe(int64_t tokens, double seconds);

  // Tokens a step may hold to last about `seconds`, within [floor, ceiling]; `floor` until
  // enough has been observed.
  int64_t TokensWithin(double seconds, int64_t floor, int64_t ceiling) const;

  // The current fit (0 when unknown).
  double fixed_seconds() const;
  double seconds_per_token() const;
  int64_t observations() const { return n_; }

 private:
  void Fit(double* fixed, double* per_token) const;

  double decay_;
  double w_ = 0, x_ = 0, y_ = 0, xx_ = 0, xy_ = 0;  // weighted sums
  int64_t n_ = 0;
};

}  // namespace dte
