#pragma once
// Recent history for the live dashboard. TimeSeriesRing keeps the last N (time, value) points of
// one series (a fixed-size ring, no allocation after construction); DashboardHistory keeps many
// named series plus recent scaling events and renders the JSON of GET /v1/dashboard/summary
// (the format is documented in docs/observability.md and read by web/dashboard/dashboard.js).
//
// Threading: TimeSeriesRing is not synchronized (one owner); DashboardHistory is thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace dte {

class TimeSeriesRing {
 public:
  struct Point {
    int64_t unix_ms = 0;
    double value = 0;
  };
  explicit TimeSeriesRing(size_t capacity);

  // Appends a point; the oldest is overwritten when full. Non-finite values are stored as gaps
  // (rendered as null).
  void Add(int64_t unix_ms, double value);
  size_t size() const { return size_; }
  size_t capacity() const { return points_.size(); }
  bool empty() const { return size_ == 0; }
  const Point& at(size_t i) const;  // 0 = oldest
  const Point& back() const { return at(size_ - 1); }
  std::vector<Point> Points() const;  // oldest first
  // [[unix_ms, value|null], ...] oldest first; only points at or after since_ms.
  nlohmann::json ToJson(int64_t since_ms = 0) const;

 private:
  std::vector<Point> points_;
  size_t head_ = 0;  // index of the oldest point
  size_t size_ = 0;
};

struct ScalingEvent {
  int64_t unix_ms = 0;
  int from = 0;
  int to = 0;
  std::string reason;
};

class DashboardHistory {
 public:
  explicit DashboardHistory(size_t points_per_series = 360, size_t max_scaling_events = 50);

  // Records one point of a named series; the dashboard knows these names:
  //   request_rate (req/s), error_ratio (0..1), ttft_p50|p95|p99 (s), tpot_p50|p95|p99 (s),
  //   queue_depth, active_sequences, workers, and cache_hit_ratio.<tier> (0..1, one per tier).
  // Other names are returned too (and drawn under "other").
  void Record(const std::string& series, int64_t unix_ms, double value);
  void AddScalingEvent(ScalingEvent event);

  // {"generated_at_ms", "interval_ms", "series":{name:[[t,v],...]}, "scaling_events":[...],
  //  plus the caller's extra sections (workers, alerts, traces) merged in at top level}.
  nlohmann::json Summary(int64_t now_ms, int64_t interval_ms,
                         nlohmann::json extra = nlohmann::json::object(),
                         int64_t since_ms = 0) const;

 private:
  const size_t points_per_series_;
  const size_t max_scaling_events_;
  mutable std::mutex mu_;
  std::map<std::string, TimeSeriesRing> series_;  // guarded by mu_
  std::deque<ScalingEvent> scaling_events_;       // guarded by mu_
};

}  // namespace dte
