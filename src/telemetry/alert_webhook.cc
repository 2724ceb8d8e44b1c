#include "telemetry/alert_webhook.h"

#include <map>

#include "base/log.h"
#include "telemetry/trace_context.h"

namespace dte {
namespace {

std::map<std::string, std::string> LabelsOf(const AlertStatus& a, const AlertConfig& config) {
  return {{"alertname", a.name}, {"severity", a.severity}, {"service", config.service}};
}

// FNV-1a over the sorted labels, like Alertmanager's fingerprint (a stable 16-hex-digit id).
std::string Fingerprint(const std::map<std::string, std::string>& labels) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
  };
  for (const auto& [k, v] : labels) {
    mix(k);
    mix(v);
  }
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(h >> (56 - 8 * i));
  return HexEncode(bytes, 8);
}

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

}  // namespace

nlohmann::json AlertmanagerPayload(const std::vector<AlertNotification>& group,
                                   const AlertConfig& config, const AlertWebhookOptions& options) {
  nlohmann::json alerts = nlohmann::json::array();
  bool any_firing = false;
  std::map<std::string, std::string> common_labels, common_annotations;
  for (size_t i = 0; i < group.size(); ++i) {
    const auto& n = group[i];
    auto labels = LabelsOf(n.alert, config);
    std::map<std::string, std::string> annotations = {{"summary", n.alert.summary},
                                                      {"description", n.alert.description}};
    any_firing = any_firing || !n.resolved;
    auto starts = n.alert.fired_at ? n.alert.fired_at : n.alert.active_since;
    nlohmann::json a = {
        {"status", n.resolved ? "resolved" : "firing"},
        {"labels", labels},
        {"annotations", annotations},
        {"startsAt", starts ? FormatRfc3339(*starts) : kZeroTime},
        {"endsAt",
         n.resolved && n.alert.resolved_at ? FormatRfc3339(*n.alert.resolved_at) : kZeroTime},
        {"generatorURL", options.external_url},
        {"fingerprint", Fingerprint(labels)}};
    alerts.push_back(std::move(a));
    auto intersect = [&](std::map<std::string, std::string>& common,
                         const std::map<std::string, std::string>& m) {
      if (i == 0) {
        common = m;
        return;
      }
      for (auto it = common.begin(); it != common.end();) {
        auto f = m.find(it->first);
        it = (f == m.end() || f->second != it->second) ? common.erase(it) : std::next(it);
      }
    };
    intersect(common_labels, labels);
    intersect(common_annotations, annotations);
  }
  std::map<std::string, std::string> group_labels;
  if (auto it = common_labels.find("alertname"); it != common_labels.end())
    group_labels["alertname"] = it->second;
  std::string group_key = "{}:{";
  for (const auto& [k, v] : group_labels) group_key += k + "=\"" + v + "\"";
  group_key += "}";
  return {{"version", "4"},
          {"groupKey", group_key},
          {"truncatedAlerts", 0},
          {"status", any_firing ? "firing" : "resolved"},
          {"receiver", options.receiver},
          {"groupLabels", group_labels},
          {"commonLabels", common_labels},
          {"commonAnnotations", common_annotations},
          {"externalURL", options.external_url},
          {"alerts", std::move(alerts)}};
}

AlertNotifier::AlertNotifier(AlertWebhookOptions options, AlertConfig config,
                             std::unique_ptr<OtlpTransport> transport,
                             prometheus::Registry* registry)
    : options_(std::move(options)), config_(std::move(config)), transport_(std::move(transport)) {
  if (registry) {
    auto& family = prometheus::BuildCounter()
                       .Name("dte_alert_notifications_total")
                       .Help("Alert webhook notifications by result.")
                       .Register(*registry);
    sent_counter_ = &family.Add({{"result", "sent"}});
    failed_counter_ = &family.Add({{"result", "failed"}});
  }
  thread_ = std::thread([this] { Run(); });
}

Result<std::unique_ptr<AlertNotifier>> AlertNotifier::Create(AlertWebhookOptions options,
                                                             AlertConfig config,
                                                             prometheus::Registry* registry) {
  auto url = ParseHttpUrl(options.url);
  if (!url.ok()) return url.status().WithPrefix("--alert-webhook");
  auto transport = std::make_unique<HttpJsonTransport>(*url, options.request_timeout);
  return std::make_unique<AlertNotifier>(std::move(options), std::move(config),
                                         std::move(transport), registry);
}

AlertNotifier::~AlertNotifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertNotifier::Notify(const std::vector<AlertNotification>& notifications) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& n : notifications) {
      if (queue_.size() >= options_.max_queue) {
        ++failed_;
        if (failed_counter_) failed_counter_->Increment();
        continue;
      }
      queue_.push_back(AlertmanagerPayload({n}, config_, options_).dump());
    }
  }
  wake_.notify_one();
}

bool AlertNotifier::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return drained_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

uint64_t AlertNotifier::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}
uint64_t AlertNotifier::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

void AlertNotifier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping with nothing left
    std::string body = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    bool ok = false;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      HttpResult r = transport_->Post(body);
      if (r.ok()) {
        ok = true;
        break;
      }
      if (!r.retryable() || attempt == options_.max_attempts) {
        LogWarning("alert webhook failed: " +
                   (r.status ? "HTTP " + std::to_string(r.status) : r.error));
        break;
      }
      std::unique_lock<std::mutex> wait_lock(mu_);
      if (wake_.wait_for(wait_lock, options_.backoff * attempt, [&] { return stopping_; })) break;
    }
    lock.lock();
    busy_ = false;
    if (ok) {
      ++sent_;
      if (sent_counter_) sent_counter_->Increment();
    } else {
      ++failed_;
      if (failed_counter_) failed_counter_->Increment();
    }
    if (queue_.empty()) drained_.notify_all();
  }
  drained_.notify_all();
}

}  // namespace dte
