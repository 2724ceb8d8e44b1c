#include "router/circuit_breaker.h"

#include <algorithm>

namespace dte::router {

bool CircuitBreaker::Allow(SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now < open_until_) return false;
      state_ = State::kHalfOpen;
      trials_in_flight_ = 0;
      [[fallthrough]];
    case State::kHalfOpen:
      if (trials_in_flight_ >= options_.half_open_trials) return false;
      ++trials_in_flight_;
      return true;
  }
  return false;
}

bool CircuitBreaker::WouldAllow(SteadyClock::time_point now) const {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      return now >= open_until_;
    case State::kHalfOpen:
      return trials_in_flight_ < options_.half_open_trials;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard lock(mu_);
  consecutive_failures_ = 0;
  if (state_ == State::kHalfOpen) {
    state_ = State::kClosed;
    trials_in_flight_ = 0;
    current_open_ = std::chrono::milliseconds(0);
  }
}

void CircuitBreaker::RecordFailure(SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  ++consecutive_failures_;
  if (state_ == State::kHalfOpen) {
    OpenLocked(now);
  } else if (state_ == State::kClosed && consecutive_failures_ >= options_.failure_threshold) {
    OpenLocked(now);
  }
}

void CircuitBreaker::Trip(SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  ++consecutive_failures_;
  if (state_ != State::kOpen) OpenLocked(now);
}

void CircuitBreaker::Release() {
  std::lock_guard lock(mu_);
  if (state_ == State::kHalfOpen && trials_in_flight_ > 0) --trials_in_flight_;
}

void CircuitBreaker::OpenLocked(SteadyClock::time_point now) {
  // Each re-open after a failed trial doubles the wait, so a dead backend costs few requests.
  current_open_ = current_open_.count() == 0
                      ? options_.open_duration
                      : std::min(current_open_ * 2, options_.max_open_duration);
  state_ = State::kOpen;
  open_until_ = now + current_open_;
  trials_in_flight_ = 0;
  ++times_opened_;
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

uint64_t CircuitBreaker::times_opened() const {
  std::lock_guard lock(mu_);
  return times_opened_;
}

std::string_view CircuitBreaker::StateName(State s) {
  switch (s) {
    case State::kClosed:
      return "closed";
    case State::kOpen:
      return "open";
    case State::kHalfOpen:
      return "half_open";
  }
  return "?";
}

}  // namespace dte::router
