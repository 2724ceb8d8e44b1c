#pragma once
// EventLog: the last N scaling events (decisions that changed the replica count, overrides,
// actuator failures) in a bounded ring, for GET /v1/scaling/events and the simulator's report.
// Thread-safe: the control loop appends while HTTP handlers read.

#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dte::autoscale {

struct ScalingEvent {
  uint64_t seq = 0;     // 1, 2, ... in order of Append
  double time_s = 0;    // the decision's time (the caller's monotonic clock)
  int64_t unix_ms = 0;  // wall-clock time of Append
  int from = 0;
  int to = 0;
  std::string kind;  // "scale_up", "scale_down", "override", "actuator_error"
  std::string reason;
  nlohmann::json inputs;   // DecisionInputs as JSON
  double decision_us = 0;  // time Decide() took (0 when not measured)
};

class EventLog {
 public:
  explicit EventLog(size_t capacity = 256);

  // Fills seq and unix_ms; drops the oldest event when full.
  void Append(ScalingEvent event);
  // The newest `limit` events, oldest first.
  std::vector<ScalingEvent> Recent(size_t limit = SIZE_MAX) const;
  uint64_t total() const;  // events ever appended
  size_t capacity() const { return capacity_; }

  static nlohmann::json ToJson(const ScalingEvent& e);
  nlohmann::json ToJson(size_t limit = SIZE_MAX) const;  // {"events": [...], "total": n}

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<ScalingEvent> events_;  // guarded by mu_
  uint64_t total_ = 0;               // guarded by mu_
};

}  // namespace dte::autoscale
