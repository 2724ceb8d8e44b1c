#include "cache/cache_clock.h"

#include <time.h>

namespace dte {
namespace {

class CoarseMonotonicClock final : public CacheClock {
 public:
  int64_t NowNanos() const override {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
};

}  // namespace

std::shared_ptr<const CacheClock> CacheClock::Real() {
  static const std::shared_ptr<const CacheClock> clock = std::make_shared<CoarseMonotonicClock>();
  return clock;
}

}  // namespace dte
