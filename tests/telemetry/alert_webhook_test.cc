// The Alertmanager-compatible webhook: payload shape (version 4) and delivery to a loopback
// receiver, with retry on 503.

#include "telemetry/alert_webhook.h"

#include <gtest/gtest.h>

#include "telemetry/loopback_receiver.h"

namespace dte {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::LoopbackReceiver;

const WallTime kT0 = WallTime(std::chrono::seconds(1'800'000'000));

std::vector<AlertNotification> FireErrorRate(AlertEvaluator& e) {
  AlertMetrics m;
  m.error_ratio = 0.3;
  e.Evaluate(kT0, m);
  return e.Evaluate(kT0 + 60s, m);
}

TEST(AlertWebhookTest, PayloadIsAlertmanagerVersion4) {
  AlertEvaluator e;
  auto firing = FireErrorRate(e);
  ASSERT_EQ(firing.size(), 1u);
  AlertWebhookOptions options;
  options.receiver = "ops";
  options.external_url = "http://router:8000/dashboard";
  json p = AlertmanagerPayload(firing, e.config(), options);
  EXPECT_EQ(p["version"], "4");
  EXPECT_EQ(p["status"], "firing");
  EXPECT_EQ(p["receiver"], "ops");
  EXPECT_EQ(p["externalURL"], "http://router:8000/dashboard");
  EXPECT_EQ(p["groupLabels"], json({{"alertname", "high_error_rate"}}));
  EXPECT_EQ(p["groupKey"], "{}:{alertname=\"high_error_rate\"}");
  EXPECT_EQ(p["truncatedAlerts"], 0);
  EXPECT_EQ(p["commonLabels"]["severity"], "high");
  EXPECT_EQ(p["commonLabels"]["service"], "dte");
  ASSERT_EQ(p["alerts"].size(), 1u);
  const json& a = p["alerts"][0];
  EXPECT_EQ(a["status"], "firing");
  EXPECT_EQ(a["labels"]["alertname"], "high_error_rate");
  EXPECT_EQ(a["labels"]["severity"], "high");
  EXPECT_TRUE(a["annotations"]["summary"].is_string());
  EXPECT_NE(a["annotations"]["description"].get<std::string>().find("30.00 %"), std::string::npos);
  EXPECT_EQ(a["startsAt"], FormatRfc3339(kT0 + 60s));
  EXPECT_EQ(a["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(a["fingerprint"].get<std::string>().size(), 16u);

  AlertMetrics ok;
  ok.error_ratio = 0;
  auto resolved = e.Evaluate(kT0 + 90s, ok);
  ASSERT_EQ(resolved.size(), 1u);
  json r = AlertmanagerPayload(resolved, e.config(), options);
  EXPECT_EQ(r["status"], "resolved");
  EXPECT_EQ(r["alerts"][0]["status"], "resolved");
  EXPECT_EQ(r["alerts"][0]["endsAt"], FormatRfc3339(kT0 + 90s));
  EXPECT_EQ(r["alerts"][0]["fingerprint"], a["fingerprint"]);  // same alert, same fingerprint
}

TEST(AlertWebhookTest, CommonLabelsAreTheIntersection) {
  AlertEvaluator e(AlertConfig{.response_time_for = 0s, .overload_for = 0s});
  AlertMetrics m;
  m.latency_p95_seconds = 3;
  m.latency_p99_seconds = 9;
  auto n = e.Evaluate(kT0, m);
  ASSERT_EQ(n.size(), 2u);
  json p = AlertmanagerPayload(n, e.config(), {});
  EXPECT_FALSE(p["commonLabels"].contains("alertname"));
  EXPECT_FALSE(p["commonLabels"].contains("severity"));  // high vs critical
  EXPECT_EQ(p["commonLabels"]["service"], "dte");
  EXPECT_TRUE(p["groupLabels"].empty());
}

TEST(AlertWebhookTest, DeliversToTheReceiverAndRetries503) {
  LoopbackReceiver receiver;
  receiver.Script({{503, ""}, {200, ""}});
  AlertWebhookOptions options;
  options.url = receiver.url("/hooks/dte");
  options.backoff = 10ms;
  AlertEvaluator e;
  auto notifier = AlertNotifier::Create(options, e.config());
  ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
  (*notifier)->Notify(FireErrorRate(e));
  ASSERT_TRUE((*notifier)->Flush(5000ms));
  ASSERT_EQ(receiver.requests().size(), 2u);
  EXPECT_EQ(receiver.requests()[1].path, "/hooks/dte");
  json body = json::parse(receiver.requests()[1].body);
  EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "high_error_rate");
  EXPECT_EQ((*notifier)->sent(), 1u);
  EXPECT_EQ((*notifier)->failed(), 0u);
}

TEST(AlertWebhookTest, ClientErrorsAreNotRetried) {
  LoopbackReceiver receiver;
  receiver.Script({{404, ""}});
  AlertWebhookOptions options;
  options.url = receiver.url("/wrong");
  options.backoff = 10ms;
  AlertEvaluator e;
  auto notifier = AlertNotifier::Create(options, e.config());
  ASSERT_TRUE(notifier.ok());
  (*notifier)->Notify(FireErrorRate(e));
  ASSERT_TRUE((*notifier)->Flush(5000ms));
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ((*notifier)->failed(), 1u);
  AlertWebhookOptions https;
  https.url = "https://x";
  EXPECT_FALSE(AlertNotifier::Create(https, e.config()).ok());
}

}  // namespace
}  // namespace dte
