#pragma once
// CacheClock: the time source of the RAM tiers' TTLs (L1, L2). Times are int64 nanoseconds on a
// monotonic clock with an arbitrary origin; only differences matter (nothing here is persisted).
// The real clock reads CLOCK_MONOTONIC_COARSE (a few ns, millisecond resolution: plenty for TTLs
// in seconds), so a TTL check does not slow an L1 hit noticeably. ManualCacheClock lets tests
// move time by hand instead of sleeping.
//
// Thread-safe: NowNanos may be called from any thread; ManualCacheClock's Advance/Set too.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>

namespace dte {

// "Not stamped yet": TierEntry::cached_at of an entry that has never been in a RAM tier.
inline constexpr int64_t kUnstamped = std::numeric_limits<int64_t>::min();
// A deadline that never comes.
inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

class CacheClock {
 public:
  virtual ~CacheClock() = default;
  virtual int64_t NowNanos() const = 0;
  // The process-wide real clock (never null, never destroyed).
  static std::shared_ptr<const CacheClock> Real();
};

// A clock that only moves when told to. Starts at `start`.
class ManualCacheClock final : public CacheClock {
 public:
  explicit ManualCacheClock(int64_t start = 1'000'000'000) : now_(start) {}
  int64_t NowNanos() const override { return now_.load(std::memory_order_acquire); }
  void Advance(std::chrono::nanoseconds d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void Set(int64_t nanos) { now_.store(nanos, std::memory_order_release); }

 private:
  std::atomic<int64_t> now_;
};

// stamp + ttl as a deadline; kNever when ttl is 0 (or the stamp is unset).
inline int64_t DeadlineOf(int64_t cached_at, std::chrono::seconds ttl) {
  if (ttl.count() <= 0 || cached_at == kUnstamped) return kNever;
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count();
  return cached_at > kNever - ns ? kNever : cached_at + ns;
}

}  // namespace dte
