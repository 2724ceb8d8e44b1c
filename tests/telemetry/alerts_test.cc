// The five alert rules on a fake clock: real `for` durations, pending -> firing -> resolved,
// cooldowns, missing data, configuration.

#include "telemetry/alerts.h"

#include <gtest/gtest.h>

namespace dte {
namespace {

using namespace std::chrono_literals;

const WallTime kT0 = WallTime(std::chrono::seconds(1'800'000'000));

const AlertStatus& RuleNamed(const std::vector<AlertStatus>& rules, const std::string& name) {
  for (const auto& r : rules)
    if (r.name == name) return r;
  ADD_FAILURE() << "no rule " << name;
  return rules.front();
}

// Feeds the same metrics every 15 s from t0 to t0 + duration; returns all notifications.
std::vector<AlertNotification> EvaluateEvery15s(AlertEvaluator& e, WallTime from,
                                                std::chrono::seconds duration,
                                                const AlertMetrics& m) {
  std::vector<AlertNotification> out;
  for (auto t = from; t <= from + duration; t += 15s) {
    auto n = e.Evaluate(t, m);
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

TEST(AlertEvaluatorTest, HasTheFivePrototypeRules) {
  AlertEvaluator e;
  auto rules = e.Rules();
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(RuleNamed(rules, "high_response_time").severity, "high");
  EXPECT_EQ(RuleNamed(rules, "high_response_time").for_duration, 120s);
  EXPECT_EQ(RuleNamed(rules, "high_error_rate").severity, "high");
  EXPECT_EQ(RuleNamed(rules, "high_error_rate").for_duration, 60s);
  EXPECT_EQ(RuleNamed(rules, "memory_usage_high").severity, "medium");
  EXPECT_EQ(RuleNamed(rules, "memory_usage_high").for_duration, 180s);
  EXPECT_EQ(RuleNamed(rules, "cognitive_processing_slow").severity, "medium");
  EXPECT_EQ(RuleNamed(rules, "cognitive_processing_slow").for_duration, 120s);
  EXPECT_EQ(RuleNamed(rules, "system_overload").severity, "critical");
  EXPECT_EQ(RuleNamed(rules, "system_overload").for_duration, 60s);
}

TEST(AlertEvaluatorTest, HighResponseTimeFiresOnlyAfterTwoMinutes) {
  AlertEvaluator e;
  AlertMetrics slow;
  slow.latency_p95_seconds = 1.5;
  EXPECT_TRUE(e.Evaluate(kT0, slow).empty());
  EXPECT_EQ(RuleNamed(e.Rules(), "high_response_time").state, AlertState::kPending);
  EXPECT_TRUE(e.Evaluate(kT0 + 119s, slow).empty());
  EXPECT_EQ(RuleNamed(e.Rules(), "high_response_time").state, AlertState::kPending);
  auto n = e.Evaluate(kT0 + 120s, slow);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].alert.name, "high_response_time");
  EXPECT_FALSE(n[0].resolved);
  EXPECT_EQ(n[0].alert.state, AlertState::kFiring);
  EXPECT_EQ(*n[0].alert.active_since, kT0);
  EXPECT_EQ(*n[0].alert.fired_at, kT0 + 120s);
  EXPECT_NE(n[0].alert.description.find("1.500"), std::string::npos) << n[0].alert.description;
  EXPECT_TRUE(e.Evaluate(kT0 + 135s, slow).empty());  // still firing, no repeat

  AlertMetrics fast;
  fast.latency_p95_seconds = 0.2;
  n = e.Evaluate(kT0 + 150s, fast);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_TRUE(n[0].resolved);
  EXPECT_EQ(*n[0].alert.resolved_at, kT0 + 150s);
  EXPECT_EQ(RuleNamed(e.Rules(), "high_response_time").state, AlertState::kInactive);
}

TEST(AlertEvaluatorTest, AFlapResetsThePendingTimer) {
  AlertEvaluator e;
  AlertMetrics bad, good;
  bad.error_ratio = 0.2;
  good.error_ratio = 0.01;
  e.Evaluate(kT0, bad);
  e.Evaluate(kT0 + 45s, bad);
  e.Evaluate(kT0 + 50s, good);  // back to normal before the minute is up
  EXPECT_TRUE(e.Evaluate(kT0 + 70s, bad).empty());
  EXPECT_TRUE(e.Evaluate(kT0 + 120s, bad).empty());  // only 50 s since it became true again
  auto n = e.Evaluate(kT0 + 130s, bad);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].alert.name, "high_error_rate");
}

TEST(AlertEvaluatorTest, ThresholdsAreStrict) {
  AlertEvaluator e;
  AlertMetrics m;
  m.latency_p95_seconds = 1.0;  // equal to the limit: not above it
  m.error_ratio = 0.05;
  EXPECT_TRUE(EvaluateEvery15s(e, kT0, 600s, m).empty());
  EXPECT_TRUE(e.Active().empty());
}

TEST(AlertEvaluatorTest, MissingDataNeverFires) {
  AlertEvaluator e(AlertConfig{.rss_limit_bytes = 1e9, .state_cache_limit_bytes = 1e9});
  EXPECT_TRUE(EvaluateEvery15s(e, kT0, 900s, AlertMetrics{}).empty());
  EXPECT_TRUE(e.Active().empty());
}

TEST(AlertEvaluatorTest, MemoryUsesRssOrStateCacheAgainstConfiguredLimits) {
  AlertEvaluator no_limits;  // limits default to 0: the rule is off
  AlertMetrics huge;
  huge.rss_bytes = 1e12;
  huge.state_cache_bytes = 1e12;
  EXPECT_TRUE(EvaluateEvery15s(no_limits, kT0, 600s, huge).empty());

  AlertEvaluator e(AlertConfig{.rss_limit_bytes = 4e9, .state_cache_limit_bytes = 1e9});
  AlertMetrics cache_full;
  cache_full.rss_bytes = 2e9;
  cache_full.state_cache_bytes = 1.5e9;
  auto n = EvaluateEvery15s(e, kT0, 179s, cache_full);
  EXPECT_TRUE(n.empty());
  n = e.Evaluate(kT0 + 180s, cache_full);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].alert.name, "memory_usage_high");
  EXPECT_EQ(n[0].alert.severity, "medium");
  EXPECT_DOUBLE_EQ(*n[0].alert.value, 1.5e9);
  EXPECT_DOUBLE_EQ(n[0].alert.threshold, 1e9);

  AlertEvaluator rss(AlertConfig{.rss_limit_bytes = 4e9});
  AlertMetrics big;
  big.rss_bytes = 5e9;
  n = EvaluateEvery15s(rss, kT0, 180s, big);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_DOUBLE_EQ(*n[0].alert.value, 5e9);
}

TEST(AlertEvaluatorTest, ProcessingSlowWatchesPrefillAndDecodeSeparately) {
  AlertEvaluator e;  // prefill 2 s, decode 0.25 s
  AlertMetrics decode_slow;
  decode_slow.prefill_step_p95_seconds = 0.5;
  decode_slow.decode_step_p95_seconds = 0.4;
  auto n = EvaluateEvery15s(e, kT0, 120s, decode_slow);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].alert.name, "cognitive_processing_slow");
  EXPECT_NE(n[0].alert.description.find("decode"), std::string::npos);

  AlertEvaluator e2;
  AlertMetrics prefill_slow;
  prefill_slow.prefill_step_p95_seconds = 3;
  prefill_slow.decode_step_p95_seconds = 0.1;
  n = EvaluateEvery15s(e2, kT0, 120s, prefill_slow);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_NE(n[0].alert.description.find("prefill"), std::string::npos);
}

TEST(AlertEvaluatorTest, SystemOverloadOnExtremeLatencyOrASaturatedQueue) {
  {
    AlertEvaluator e;
    AlertMetrics m;
    m.latency_p99_seconds = 6;
    auto n = EvaluateEvery15s(e, kT0, 60s, m);
    // p99 of 6 s also means p95 is unknown here: only the overload rule fires.
    ASSERT_EQ(n.size(), 1u);
    EXPECT_EQ(n[0].alert.name, "system_overload");
    EXPECT_EQ(n[0].alert.severity, "critical");
  }
  {
    AlertEvaluator e;
    AlertMetrics m;
    m.queue_depth = 950;
    m.queue_capacity = 1000;
    auto n = EvaluateEvery15s(e, kT0, 60s, m);
    ASSERT_EQ(n.size(), 1u);
    EXPECT_NE(n[0].alert.description.find("queue"), std::string::npos);
  }
  {
    AlertEvaluator e;
    AlertMetrics m;
    m.queue_depth = 10;
    m.queue_capacity = 1000;
    m.rejected_per_second = 3;
    EXPECT_EQ(EvaluateEvery15s(e, kT0, 60s, m).size(), 1u);
  }
  {
    AlertEvaluator e;
    AlertMetrics m;
    m.queue_depth = 10;
    m.queue_capacity = 1000;
    m.rejected_per_second = 0;
    m.latency_p99_seconds = 4.9;
    EXPECT_TRUE(EvaluateEvery15s(e, kT0, 600s, m).empty());
  }
}

TEST(AlertEvaluatorTest, CooldownSuppressesRepeatedNotifications) {
  AlertEvaluator e(AlertConfig{.error_rate_for = 0s, .cooldown = 300s});
  AlertMetrics bad, good;
  bad.error_ratio = 0.5;
  good.error_ratio = 0;
  auto n = e.Evaluate(kT0, bad);  // for 0: fires at once
  ASSERT_EQ(n.size(), 1u);
  ASSERT_EQ(e.Evaluate(kT0 + 10s, good).size(), 1u);  // resolved is sent
  // Fires again within the cooldown: state is firing but nothing is sent, nor its resolution.
  EXPECT_TRUE(e.Evaluate(kT0 + 20s, bad).empty());
  EXPECT_EQ(RuleNamed(e.Rules(), "high_error_rate").state, AlertState::kFiring);
  EXPECT_EQ(e.suppressed_notifications(), 1u);
  EXPECT_TRUE(e.Evaluate(kT0 + 30s, good).empty());
  // After the cooldown it notifies again.
  n = e.Evaluate(kT0 + 301s, bad);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_FALSE(n[0].resolved);
}

TEST(AlertEvaluatorTest, JsonListsActiveAlertsAndAllRules) {
  AlertEvaluator e;
  AlertMetrics m;
  m.latency_p95_seconds = 2;
  m.error_ratio = 0.5;
  e.Evaluate(kT0, m);
  e.Evaluate(kT0 + 60s, m);
  auto j = e.ToJson();
  ASSERT_EQ(j["rules"].size(), 5u);
  ASSERT_EQ(j["alerts"].size(), 2u);
  EXPECT_EQ(j["alerts"][0]["name"], "high_response_time");
  EXPECT_EQ(j["alerts"][0]["state"], "pending");
  EXPECT_EQ(j["alerts"][0]["fired_at"], nullptr);
  EXPECT_EQ(j["alerts"][1]["name"], "high_error_rate");
  EXPECT_EQ(j["alerts"][1]["state"], "firing");
  EXPECT_EQ(j["alerts"][1]["active_since"], FormatRfc3339(kT0));
  EXPECT_EQ(j["alerts"][1]["fired_at"], FormatRfc3339(kT0 + 60s));
  EXPECT_EQ(j["evaluated_at"], FormatRfc3339(kT0 + 60s));
  EXPECT_EQ(FormatRfc3339(WallTime(std::chrono::milliseconds(1445412480123))),
            "2015-10-21T07:28:00.123Z");
}

TEST(AlertConfigTest, ParsesOverridesAndRejectsUnknownKeys) {
  auto c = ParseAlertConfig(nlohmann::json::parse(
      R"({"response_time_p95_seconds": 0.5, "error_rate_for": 30, "rss_limit_bytes": 8e9, "service": "x"})"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->response_time_p95_seconds, 0.5);
  EXPECT_EQ(c->error_rate_for, 30s);
  EXPECT_EQ(c->rss_limit_bytes, 8e9);
  EXPECT_EQ(c->service, "x");
  EXPECT_EQ(c->response_time_for, 120s);  // untouched default
  EXPECT_FALSE(ParseAlertConfig(nlohmann::json::parse(R"({"nope": 1})")).ok());
  EXPECT_FALSE(ParseAlertConfig(nlohmann::json::parse(R"({"error_ratio": "high"})")).ok());
  EXPECT_FALSE(ParseAlertConfig(nlohmann::json::parse(R"({"error_ratio": -1})")).ok());
  EXPECT_FALSE(ParseAlertConfig(nlohmann::json::parse("[]")).ok());
}

}  // namespace
}  // namespace dte
