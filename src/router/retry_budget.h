#pragma once
// RetryBudget: caps retries to a fraction of the request rate, so a sick backend pool is not
// hit by a retry storm (the Finagle/Linkerd idea). Each request deposits `ratio` of a token;
// each retry withdraws one whole token. A small floor (`min_per_second` tokens refilled each
// second) keeps retries possible at low traffic; the balance is capped at `max_balance`.
// With ratio 0.2 and no floor, at most 20 % of requests get a retry over any long run.
// Thread-safe (one mutex). Time comes from the caller for tests.

#include <cstdint>
#include <mutex>

#include "base/clock.h"

namespace dte::router {

struct RetryBudgetOptions {
  double ratio = 0.2;
  double min_per_second = 10.0;
  double max_balance = 100.0;
};

class RetryBudget {
 public:
  explicit RetryBudget(RetryBudgetOptions options = {},
                       SteadyClock::time_point now = SteadyClock::now());

  void OnRequest();
  // Withdraws one token if there is one. False: the budget is spent, do not retry.
  bool TryRetry(SteadyClock::time_point now = SteadyClock::now());

  double balance() const;
  uint64_t retries() const;
  uint64_t refused() const;

 private:
  void RefillLocked(SteadyClock::time_point now);

  const RetryBudgetOptions options_;
  mutable std::mutex mu_;
  double balance_;                       // guarded by mu_
  SteadyClock::time_point last_refill_;  // guarded by mu_
  uint64_t retries_ = 0;                 // guarded by mu_
  uint64_t refused_ = 0;                 // guarded by mu_
};

}  // namespace dte::router
