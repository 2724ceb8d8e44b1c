#pragma once
// CircuitBreaker: passive health of one backend, from the outcomes of real requests.
//
//   closed ──(failure_threshold consecutive failures)──▶ open
//   open ──(open_duration elapsed; the next Allow())──▶ half-open
//   half-open: at most half_open_trials requests are let through; a success closes the
//   breaker, a failure opens it again with the open duration doubled (up to max_open_duration).
//
// Allow() is asked before a request is sent; every allowed request must end in exactly one
// RecordSuccess() or RecordFailure() (a half-open trial slot is held until then). Time comes
// from the caller, so tests drive the state machine without sleeping. Thread-safe (one mutex).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "base/clock.h"

namespace dte::router {

struct CircuitBreakerOptions {
  int failure_threshold = 3;
  std::chrono::milliseconds open_duration{1'000};
  std::chrono::milliseconds max_open_duration{30'000};
  int half_open_trials = 1;
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  explicit CircuitBreaker(CircuitBreakerOptions options = {}) : options_(options) {}

  // True when a request may go to the backend now (moves open -> half-open when due).
  bool Allow(SteadyClock::time_point now = SteadyClock::now());
  // Like Allow() but takes no trial slot: would a request be allowed? For ranking candidates.
  bool WouldAllow(SteadyClock::time_point now = SteadyClock::now()) const;
  void RecordSuccess();
  void RecordFailure(SteadyClock::time_point now = SteadyClock::now());
  // Opens the breaker at once, whatever the count (a refused connection: the process is gone).
  void Trip(SteadyClock::time_point now = SteadyClock::now());
  // Gives back a half-open trial slot taken by Allow() for a request that was never sent.
  void Release();

  State state() const;
  uint64_t times_opened() const;
  static std::string_view StateName(State s);

 private:
  void OpenLocked(SteadyClock::time_point now);

  const CircuitBreakerOptions options_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;               // guarded by mu_
  int consecutive_failures_ = 0;               // guarded by mu_
  int trials_in_flight_ = 0;                   // guarded by mu_
  std::chrono::milliseconds current_open_{0};  // guarded by mu_
  SteadyClock::time_point open_until_{};       // guarded by mu_
  uint64_t times_opened_ = 0;                  // guarded by mu_
};

}  // namespace dte::router
