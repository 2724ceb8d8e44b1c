#pragma once
// Monotonic time helpers for measurements.

#include <chrono>

namespace dte {

using SteadyClock = std::chrono::steady_clock;

inline double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace dte
