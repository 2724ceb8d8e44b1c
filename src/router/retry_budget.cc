#include "router/retry_budget.h"

#include <algorithm>
#include <chrono>

namespace dte::router {

RetryBudget::RetryBudget(RetryBudgetOptions options, SteadyClock::time_point now)
    : options_(options),
      balance_(std::min(options.min_per_second, options.max_balance)),
      last_refill_(now) {}

void RetryBudget::OnRequest() {
  std::lock_guard lock(mu_);
  balance_ = std::min(options_.max_balance, balance_ + options_.ratio);
}

void RetryBudget::RefillLocked(SteadyClock::time_point now) {
  if (now <= last_refill_) return;
  const double seconds = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  balance_ = std::min(options_.max_balance, balance_ + seconds * options_.min_per_second);
}

bool RetryBudget::TryRetry(SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  RefillLocked(now);
  // 1e-9 absorbs the rounding of many ratio deposits (5 x 0.2 must make one token).
  if (balance_ + 1e-9 < 1.0) {
    ++refused_;
    return false;
  }
  balance_ -= 1.0;
  ++retries_;
  return true;
}

double RetryBudget::balance() const {
  std::lock_guard lock(mu_);
  return balance_;
}

uint64_t RetryBudget::retries() const {
  std::lock_guard lock(mu_);
  return retries_;
}

uint64_t RetryBudget::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

}  // namespace dte::router
