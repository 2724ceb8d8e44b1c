// Unit tests of the circuit breaker state machine and the retry budget (time is passed in).
#include <gtest/gtest.h>

#include "router/circuit_breaker.h"
#include "router/retry_budget.h"

namespace dte::router {
namespace {

using std::chrono::milliseconds;
using State = CircuitBreaker::State;

CircuitBreakerOptions Opts() {
  CircuitBreakerOptions o;
  o.failure_threshold = 3;
  o.open_duration = milliseconds(100);
  o.max_open_duration = milliseconds(350);
  o.half_open_trials = 1;
  return o;
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresOnly) {
  CircuitBreaker b(Opts());
  const auto t0 = SteadyClock::now();
  b.RecordFailure(t0);
  b.RecordFailure(t0);
  b.RecordSuccess();  // resets the count
  b.RecordFailure(t0);
  b.RecordFailure(t0);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.Allow(t0));
  b.RecordFailure(t0);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_FALSE(b.Allow(t0 + milliseconds(99)));
  EXPECT_FALSE(b.WouldAllow(t0 + milliseconds(99)));
}

TEST(CircuitBreaker, HalfOpenLetsOneTrialThroughAndASuccessCloses) {
  CircuitBreaker b(Opts());
  const auto t0 = SteadyClock::now();
  b.Trip(t0);
  EXPECT_EQ(b.state(), State::kOpen);
  const auto t1 = t0 + milliseconds(100);
  EXPECT_TRUE(b.WouldAllow(t1));
  EXPECT_TRUE(b.Allow(t1));
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_FALSE(b.Allow(t1)) << "only one trial at a time";
  b.RecordSuccess();
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.Allow(t1));
  EXPECT_TRUE(b.Allow(t1));
}

TEST(CircuitBreaker, AFailedTrialReopensForTwiceAsLongUpToTheCap) {
  CircuitBreaker b(Opts());
  auto t = SteadyClock::now();
  b.Trip(t);  // open 100 ms
  t += milliseconds(100);
  ASSERT_TRUE(b.Allow(t));
  b.RecordFailure(t);  // open 200 ms
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_FALSE(b.Allow(t + milliseconds(199)));
  t += milliseconds(200);
  ASSERT_TRUE(b.Allow(t));
  b.RecordFailure(t);  // 400 ms capped at 350
  EXPECT_FALSE(b.Allow(t + milliseconds(349)));
  EXPECT_TRUE(b.Allow(t + milliseconds(350)));
  b.RecordSuccess();
  EXPECT_EQ(b.state(), State::kClosed);
  // After closing, the next open period starts from the base again.
  b.Trip(t);
  EXPECT_TRUE(b.WouldAllow(t + milliseconds(100)));
  EXPECT_EQ(b.times_opened(), 4u);
}

TEST(CircuitBreaker, ReleaseGivesBackAnUnusedTrialSlot) {
  CircuitBreaker b(Opts());
  const auto t0 = SteadyClock::now();
  b.Trip(t0);
  const auto t1 = t0 + milliseconds(100);
  ASSERT_TRUE(b.Allow(t1));
  EXPECT_FALSE(b.Allow(t1));
  b.Release();
  EXPECT_TRUE(b.Allow(t1));
}

TEST(RetryBudget, AllowsRetriesForTheConfiguredShareOfRequests) {
  RetryBudgetOptions o;
  o.ratio = 0.2;
  o.min_per_second = 0;
  const auto t0 = SteadyClock::now();
  RetryBudget budget(o, t0);
  EXPECT_FALSE(budget.TryRetry(t0)) << "no requests yet, no floor";
  int allowed = 0;
  for (int i = 0; i < 100; ++i) {
    budget.OnRequest();
    if (budget.TryRetry(t0)) ++allowed;
  }
  EXPECT_EQ(allowed, 20);
  EXPECT_EQ(budget.retries(), 20u);
  EXPECT_EQ(budget.refused(), 81u);
}

TEST(RetryBudget, TheFloorRefillsWithTimeAndTheBalanceIsCapped) {
  RetryBudgetOptions o;
  o.ratio = 0.5;
  o.min_per_second = 10;
  o.max_balance = 3;
  const auto t0 = SteadyClock::now();
  RetryBudget budget(o, t0);
  for (int i = 0; i < 1000; ++i) budget.OnRequest();
  EXPECT_LE(budget.balance(), 3.0);
  int allowed = 0;
  while (budget.TryRetry(t0)) ++allowed;
  EXPECT_EQ(allowed, 3);
  EXPECT_FALSE(budget.TryRetry(t0 + std::chrono::milliseconds(50)));  // 0.5 token
  EXPECT_TRUE(budget.TryRetry(t0 + std::chrono::milliseconds(100)));  // 1 token
}

}  // namespace
}  // namespace dte::router
