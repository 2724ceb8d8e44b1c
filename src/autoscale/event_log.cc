#include "autoscale/event_log.h"

#include <chrono>

namespace dte::autoscale {

EventLog::EventLog(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

void EventLog::Append(ScalingEvent event) {
  event.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::lock_guard lock(mu_);
  event.seq = ++total_;
  if (events_.size() == capacity_) events_.pop_front();
  events_.push_back(std::move(event));
}

std::vector<ScalingEvent> EventLog::Recent(size_t limit) const {
  std::lock_guard lock(mu_);
  const size_t n = std::min(limit, events_.size());
  return std::vector<ScalingEvent>(events_.end() - static_cast<std::ptrdiff_t>(n), events_.end());
}

uint64_t EventLog::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

nlohmann::json EventLog::ToJson(const ScalingEvent& e) {
  return {{"seq", e.seq},       {"time_s", e.time_s}, {"unix_ms", e.unix_ms},
          {"from", e.from},     {"to", e.to},         {"kind", e.kind},
          {"reason", e.reason}, {"inputs", e.inputs}, {"decision_us", e.decision_us}};
}

nlohmann::json EventLog::ToJson(size_t limit) const {
  nlohmann::json list = nlohmann::json::array();
  for (const ScalingEvent& e : Recent(limit)) list.push_back(ToJson(e));
  return {{"events", std::move(list)}, {"total", total()}, {"capacity", capacity_}};
}

}  // namespace dte::autoscale
