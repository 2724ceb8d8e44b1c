#include "telemetry/time_series.h"

#include <cmath>

#include "base/check.h"

namespace dte {

TimeSeriesRing::TimeSeriesRing(size_t capacity) : points_(capacity) {
  DTE_CHECK(capacity > 0, "TimeSeriesRing needs a positive capacity");
}

void TimeSeriesRing::Add(int64_t unix_ms, double value) {
  size_t index = (head_ + size_) % points_.size();
  if (size_ == points_.size()) {
    index = head_;
    head_ = (head_ + 1) % points_.size();
  } else {
    ++size_;
  }
  points_[index] = {unix_ms, value};
}

const TimeSeriesRing::Point& TimeSeriesRing::at(size_t i) const {
  DTE_CHECK(i < size_, "TimeSeriesRing index out of range");
  return points_[(head_ + i) % points_.size()];
}

std::vector<TimeSeriesRing::Point> TimeSeriesRing::Points() const {
  std::vector<Point> out;
  out.reserve(size_);
  for (size_t i = 0; i < size_; ++i) out.push_back(at(i));
  return out;
}

nlohmann::json TimeSeriesRing::ToJson(int64_t since_ms) const {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < size_; ++i) {
    const Point& p = at(i);
    if (p.unix_ms < since_ms) continue;
    out.push_back(nlohmann::json::array(
        {p.unix_ms, std::isfinite(p.value) ? nlohmann::json(p.value) : nlohmann::json(nullptr)}));
  }
  return out;
}

DashboardHistory::DashboardHistory(size_t points_per_series, size_t max_scaling_events)
    : points_per_series_(points_per_series), max_scaling_events_(max_scaling_events) {}

void DashboardHistory::Record(const std::string& series, int64_t unix_ms, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(series);
  if (it == series_.end()) it = series_.emplace(series, TimeSeriesRing(points_per_series_)).first;
  it->second.Add(unix_ms, value);
}

void DashboardHistory::AddScalingEvent(ScalingEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  scaling_events_.push_back(std::move(event));
  while (scaling_events_.size() > max_scaling_events_) scaling_events_.pop_front();
}

nlohmann::json DashboardHistory::Summary(int64_t now_ms, int64_t interval_ms, nlohmann::json extra,
                                         int64_t since_ms) const {
  nlohmann::json series = nlohmann::json::object(), events = nlohmann::json::array();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, ring] : series_) series[name] = ring.ToJson(since_ms);
    for (const auto& e : scaling_events_)
      events.push_back(
          {{"unix_ms", e.unix_ms}, {"from", e.from}, {"to", e.to}, {"reason", e.reason}});
  }
  nlohmann::json out = extra.is_object() ? std::move(extra) : nlohmann::json::object();
  out["generated_at_ms"] = now_ms;
  out["interval_ms"] = interval_ms;
  out["series"] = std::move(series);
  out["scaling_events"] = std::move(events);
  for (const char* key : {"workers", "alerts", "traces"})
    if (!out.contains(key)) out[key] = nlohmann::json::array();
  return out;
}

}  // namespace dte
