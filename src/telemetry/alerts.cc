#include "telemetry/alerts.h"

#include <cstdio>
#include <ctime>

namespace dte {
namespace {

enum RuleIndex : size_t {
  kHighResponseTime = 0,
  kHighErrorRate,
  kMemoryUsageHigh,
  kCognitiveProcessingSlow,
  kSystemOverload,
  kRuleCount
};

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string_view AlertStateName(AlertState state) {
  switch (state) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

std::string FormatRfc3339(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (ms % 1000 < 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buf;
}

Result<AlertConfig> ParseAlertConfig(const nlohmann::json& j, AlertConfig c) {
  if (!j.is_object()) return Status::InvalidArgument("alert config must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    double* number = nullptr;
    std::chrono::seconds* duration = nullptr;
    if (key == "response_time_p95_seconds")
      number = &c.response_time_p95_seconds;
    else if (key == "response_time_for")
      duration = &c.response_time_for;
    else if (key == "error_ratio")
      number = &c.error_ratio;
    else if (key == "error_rate_for")
      duration = &c.error_rate_for;
    else if (key == "rss_limit_bytes")
      number = &c.rss_limit_bytes;
    else if (key == "state_cache_limit_bytes")
      number = &c.state_cache_limit_bytes;
    else if (key == "memory_for")
      duration = &c.memory_for;
    else if (key == "prefill_step_p95_seconds")
      number = &c.prefill_step_p95_seconds;
    else if (key == "decode_step_p95_seconds")
      number = &c.decode_step_p95_seconds;
    else if (key == "processing_slow_for")
      duration = &c.processing_slow_for;
    else if (key == "overload_p99_seconds")
      number = &c.overload_p99_seconds;
    else if (key == "queue_saturation_ratio")
      number = &c.queue_saturation_ratio;
    else if (key == "overload_for")
      duration = &c.overload_for;
    else if (key == "cooldown")
      duration = &c.cooldown;
    else if (key == "service") {
      if (!value.is_string())
        return Status::InvalidArgument("alert config: service must be a string");
      c.service = value.get<std::string>();
      continue;
    } else {
      return Status::InvalidArgument("alert config: unknown key " + key);
    }
    if (!value.is_number() || value.get<double>() < 0)
      return Status::InvalidArgument("alert config: " + key + " must be a non-negative number");
    if (number) *number = value.get<double>();
    if (duration) *duration = std::chrono::seconds(static_cast<int64_t>(value.get<double>()));
  }
  return c;
}

AlertEvaluator::AlertEvaluator(AlertConfig config) : config_(std::move(config)) {
  struct Def {
    const char* name;
    const char* severity;
    std::chrono::seconds for_duration;
    const char* summary;
  };
  const Def defs[kRuleCount] = {
      {"high_response_time", "high", config_.response_time_for,
       "Request latency p95 is above its limit"},
      {"high_error_rate", "high", config_.error_rate_for, "Too many requests are failing"},
      {"memory_usage_high", "medium", config_.memory_for,
       "Worker memory (RSS or state cache) is above its limit"},
      {"cognitive_processing_slow", "medium", config_.processing_slow_for,
       "Prefill or decode steps are slower than their limit"},
      {"system_overload", "critical", config_.overload_for,
       "Latency p99 is extreme or the queue is saturated"},
  };
  for (const auto& d : defs) {
    Rule r;
    r.status.name = d.name;
    r.status.severity = d.severity;
    r.status.for_duration = d.for_duration;
    r.status.summary = d.summary;
    rules_.push_back(std::move(r));
  }
}

AlertEvaluator::Condition AlertEvaluator::Check(size_t rule, const AlertMetrics& m) const {
  Condition c;
  switch (rule) {
    case kHighResponseTime:
      c.threshold = config_.response_time_p95_seconds;
      c.value = m.latency_p95_seconds;
      c.active = c.value && *c.value > c.threshold;
      if (c.value)
        c.detail = "latency p95 " + Fixed(*c.value, 3) + " s > " + Fixed(c.threshold, 3) + " s";
      break;
    case kHighErrorRate:
      c.threshold = config_.error_ratio;
      c.value = m.error_ratio;
      c.active = c.value && *c.value > c.threshold;
      if (c.value)
        c.detail = "error ratio " + Fixed(*c.value * 100, 2) + " % > " +
                   Fixed(c.threshold * 100, 2) + " %";
      break;
    case kMemoryUsageHigh: {
      bool rss =
          config_.rss_limit_bytes > 0 && m.rss_bytes && *m.rss_bytes > config_.rss_limit_bytes;
      bool cache = config_.state_cache_limit_bytes > 0 && m.state_cache_bytes &&
                   *m.state_cache_bytes > config_.state_cache_limit_bytes;
      c.active = rss || cache;
      if (cache && !rss) {
        c.value = m.state_cache_bytes;
        c.threshold = config_.state_cache_limit_bytes;
        c.detail = "state cache " + Fixed(*c.value / 1048576, 1) + " MiB > " +
                   Fixed(c.threshold / 1048576, 1) + " MiB";
      } else {
        c.value = config_.rss_limit_bytes > 0 ? m.rss_bytes : m.state_cache_bytes;
        c.threshold =
            config_.rss_limit_bytes > 0 ? config_.rss_limit_bytes : config_.state_cache_limit_bytes;
        if (c.value)
          c.detail = "memory " + Fixed(*c.value / 1048576, 1) + " MiB (limit " +
                     Fixed(c.threshold / 1048576, 1) + " MiB)";
      }
      break;
    }
    case kCognitiveProcessingSlow: {
      bool prefill = m.prefill_step_p95_seconds &&
                     *m.prefill_step_p95_seconds > config_.prefill_step_p95_seconds;
      bool decode =
          m.decode_step_p95_seconds && *m.decode_step_p95_seconds > config_.decode_step_p95_seconds;
      c.active = prefill || decode;
      if (prefill || (!decode && m.prefill_step_p95_seconds)) {
        c.value = m.prefill_step_p95_seconds;
        c.threshold = config_.prefill_step_p95_seconds;
        c.detail =
            "prefill step p95 " + Fixed(*c.value, 3) + " s (limit " + Fixed(c.threshold, 3) + " s)";
      } else {
        c.value = m.decode_step_p95_seconds;
        c.threshold = config_.decode_step_p95_seconds;
        if (c.value)
          c.detail = "decode step p95 " + Fixed(*c.value, 3) + " s (limit " +
                     Fixed(c.threshold, 3) + " s)";
      }
      break;
    }
    case kSystemOverload: {
      bool slow = m.latency_p99_seconds && *m.latency_p99_seconds > config_.overload_p99_seconds;
      std::optional<double> fill;
      if (m.queue_depth && m.queue_capacity && *m.queue_capacity > 0)
        fill = *m.queue_depth / *m.queue_capacity;
      bool full = (fill && *fill >= config_.queue_saturation_ratio) ||
                  (m.rejected_per_second && *m.rejected_per_second > 0);
      c.active = slow || full;
      if (full && !slow) {
        c.value = fill ? fill : m.rejected_per_second;
        c.threshold = config_.queue_saturation_ratio;
        c.detail =
            fill && *fill >= config_.queue_saturation_ratio
                ? "queue " + Fixed(*fill * 100, 0) + " % full"
                : "requests refused with a full queue: " + Fixed(*m.rejected_per_second, 2) + "/s";
      } else {
        c.value = m.latency_p99_seconds;
        c.threshold = config_.overload_p99_seconds;
        if (c.value)
          c.detail =
              "latency p99 " + Fixed(*c.value, 3) + " s (limit " + Fixed(c.threshold, 3) + " s)";
      }
      break;
    }
    default:
      break;
  }
  return c;
}

std::vector<AlertNotification> AlertEvaluator::Evaluate(WallTime now, const AlertMetrics& metrics) {
  std::vector<AlertNotification> out;
  std::lock_guard<std::mutex> lock(mu_);
  evaluated_at_ = now;
  for (size_t i = 0; i < rules_.size(); ++i) {
    Rule& r = rules_[i];
    AlertStatus& s = r.status;
    Condition c = Check(i, metrics);
    s.value = c.value;
    s.threshold = c.threshold;
    if (!c.detail.empty()) s.description = c.detail;
    if (c.active) {
      if (s.state == AlertState::kInactive) {
        s.state = AlertState::kPending;
        s.active_since = now;
        s.fired_at.reset();
      }
      if (s.state == AlertState::kPending && now - *s.active_since >= s.for_duration) {
        s.state = AlertState::kFiring;
        s.fired_at = now;
        if (!r.last_notified || now - *r.last_notified >= config_.cooldown) {
          r.last_notified = now;
          r.notified_this_episode = true;
          out.push_back({s, false});
        } else {
          r.notified_this_episode = false;
          ++suppressed_;
        }
      }
    } else if (s.state == AlertState::kPending) {
      s.state = AlertState::kInactive;
      s.active_since.reset();
    } else if (s.state == AlertState::kFiring) {
      s.state = AlertState::kInactive;
      s.resolved_at = now;
      if (r.notified_this_episode) out.push_back({s, true});
      r.notified_this_episode = false;
    }
  }
  return out;
}

std::vector<AlertStatus> AlertEvaluator::Rules() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AlertStatus> out;
  for (const auto& r : rules_) out.push_back(r.status);
  return out;
}

std::vector<AlertStatus> AlertEvaluator::Active() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AlertStatus> out;
  for (const auto& r : rules_)
    if (r.status.state != AlertState::kInactive) out.push_back(r.status);
  return out;
}

uint64_t AlertEvaluator::suppressed_notifications() const {
  std::lock_guard<std::mutex> lock(mu_);
  return suppressed_;
}

nlohmann::json AlertStatusJson(const AlertStatus& s) {
  auto time_or_null = [](const std::optional<WallTime>& t) -> nlohmann::json {
    return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
  };
  return {{"name", s.name},
          {"severity", s.severity},
          {"state", AlertStateName(s.state)},
          {"for_seconds", s.for_duration.count()},
          {"value", s.value ? nlohmann::json(*s.value) : nlohmann::json(nullptr)},
          {"threshold", s.threshold},
          {"active_since",
           time_or_null(s.state != AlertState::kInactive ? s.active_since : std::nullopt)},
          {"fired_at", time_or_null(s.state == AlertState::kFiring ? s.fired_at : std::nullopt)},
          {"resolved_at", time_or_null(s.resolved_at)},
          {"summary", s.summary},
          {"description", s.description}};
}

nlohmann::json AlertEvaluator::ToJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json active = nlohmann::json::array(), rules = nlohmann::json::array();
  for (const auto& r : rules_) {
    nlohmann::json j = AlertStatusJson(r.status);
    if (r.status.state != AlertState::kInactive) active.push_back(j);
    rules.push_back(std::move(j));
  }
  return {{"alerts", std::move(active)},
          {"rules", std::move(rules)},
          {"evaluated_at",
           evaluated_at_ ? nlohmann::json(FormatRfc3339(*evaluated_at_)) : nlohmann::json(nullptr)},
          {"cooldown_seconds", config_.cooldown.count()},
          {"suppressed_notifications", suppressed_}};
}

}  // namespace dte
