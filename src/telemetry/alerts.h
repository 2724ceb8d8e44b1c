#pragma once
// The five alert rules of the prototype, evaluated on live metrics with real `for` durations
// (inactive -> pending -> firing -> resolved) and per-rule notification cooldowns:
//
//   high_response_time        request latency p95 > 1 s                         for 2 min  high
//   high_error_rate           failed / all requests > 5 %                       for 1 min  high
//   memory_usage_high         worker RSS or state-cache bytes above the limit   for 3 min  medium
//   cognitive_processing_slow p95 prefill or decode step time above its limit   for 2 min  medium
//   system_overload           latency p99 > 5 s or the queue saturated          for 1 min  critical
//
// Evaluate() is a pure function of (time, metrics, previous state): the caller (the router's
// evaluation loop) passes the wall-clock time and a snapshot, so tests use a fake clock.
// A metric that is absent (std::nullopt) makes its condition false, like an absent Prometheus
// series. The same rules exist as PromQL in deploy/prometheus/alerts.yml.
//
// Threading: all methods are thread-safe (one mutex).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte {

using WallTime = std::chrono::system_clock::time_point;

// What the rules look at, measured over the recent window (e.g. the last minute).
struct AlertMetrics {
  std::optional<double> latency_p95_seconds;
  std::optional<double> latency_p99_seconds;
  std::optional<double>
      error_ratio;  // 5xx (and transport failures) / all requests; nullopt: no traffic
  std::optional<double> rss_bytes;          // the largest worker's resident memory
  std::optional<double> state_cache_bytes;  // the largest worker's state + cache bytes
  std::optional<double> prefill_step_p95_seconds;
  std::optional<double> decode_step_p95_seconds;
  std::optional<double> queue_depth;          // requests waiting (largest worker, or total)
  std::optional<double> queue_capacity;       // the matching capacity (max queue)
  std::optional<double> rejected_per_second;  // requests refused because a queue was full (429)
};

struct AlertConfig {
  using Seconds = std::chrono::seconds;
  double response_time_p95_seconds = 1.0;
  Seconds response_time_for{120};
  double error_ratio = 0.05;
  Seconds error_rate_for{60};
  double rss_limit_bytes = 0;          // 0: no limit (rule ignores RSS)
  double state_cache_limit_bytes = 0;  // 0: no limit
  Seconds memory_for{180};
  double prefill_step_p95_seconds = 2.0;
  double decode_step_p95_seconds = 0.25;
  Seconds processing_slow_for{120};
  double overload_p99_seconds = 5.0;
  double queue_saturation_ratio = 0.9;  // depth / capacity at or above this is saturated
  Seconds overload_for{60};
  Seconds cooldown{300};  // at most one firing notification per rule per cooldown
  std::string service = "dte";
};

// Reads overrides from JSON: the AlertConfig field names, durations in seconds, e.g.
// {"response_time_p95_seconds": 0.5, "error_rate_for": 30, "rss_limit_bytes": 8e9}.
// Unknown keys and wrong types are InvalidArgument.
Result<AlertConfig> ParseAlertConfig(const nlohmann::json& json, AlertConfig base = {});

enum class AlertState { kInactive, kPending, kFiring };
std::string_view AlertStateName(AlertState state);  // "inactive", "pending", "firing"

struct AlertStatus {
  std::string name;
  std::string severity;  // "high", "medium", "critical"
  AlertState state = AlertState::kInactive;
  std::chrono::seconds for_duration{0};
  std::optional<double> value;  // the measured value at the last evaluation
  double threshold = 0;
  std::optional<WallTime> active_since;  // when the condition became true (pending began)
  std::optional<WallTime> fired_at;
  std::optional<WallTime> resolved_at;  // the last resolution
  std::string summary;
  std::string description;  // with the measured value
};

// A transition worth telling a receiver about.
struct AlertNotification {
  AlertStatus alert;
  bool resolved = false;
};

class AlertEvaluator {
 public:
  explicit AlertEvaluator(AlertConfig config = {});
  const AlertConfig& config() const { return config_; }

  // Advances every rule to `now` and returns the notifications due (cooldowns applied).
  std::vector<AlertNotification> Evaluate(WallTime now, const AlertMetrics& metrics);

  std::vector<AlertStatus> Rules() const;   // all five, in the order above
  std::vector<AlertStatus> Active() const;  // pending or firing
  uint64_t suppressed_notifications() const;

  // GET /v1/alerts: {"alerts":[active...], "rules":[all...], "evaluated_at": "...", ...}
  nlohmann::json ToJson() const;

 private:
  struct Condition {
    bool active = false;
    std::optional<double> value;
    double threshold = 0;
    std::string detail;
  };
  struct Rule {
    AlertStatus status;
    std::optional<WallTime> last_notified;
    bool notified_this_episode = false;
  };
  Condition Check(size_t rule, const AlertMetrics& m) const;

  const AlertConfig config_;
  mutable std::mutex mu_;
  std::vector<Rule> rules_;               // guarded by mu_
  std::optional<WallTime> evaluated_at_;  // guarded by mu_
  uint64_t suppressed_ = 0;               // guarded by mu_
};

// RFC 3339 UTC with milliseconds: "2026-11-27T08:40:14.123Z".
std::string FormatRfc3339(WallTime t);
nlohmann::json AlertStatusJson(const AlertStatus& status);

}  // namespace dte
