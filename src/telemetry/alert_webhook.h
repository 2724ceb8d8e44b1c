#pragma once
// Sends alert notifications as Alertmanager-compatible webhook JSON (the payload
// Alertmanager's webhook receiver posts, version "4"), so receivers written for Alertmanager
// (and Alertmanager's own tooling) accept them. One POST per notification, grouped by alertname.
//
// Threading: AlertNotifier::Notify is thread-safe and never blocks on the network; a background
// thread posts through the injected transport with a few retries (429/5xx/network errors).

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/alerts.h"
#include "telemetry/http_post.h"

namespace dte {

struct AlertWebhookOptions {
  std::string url;               // http://host:port/path (used by Create)
  std::string receiver = "dte";  // "receiver" in the payload
  std::string
      external_url;  // "externalURL": where the alerts are shown, e.g. http://router:8000/dashboard
  size_t max_queue = 256;
  int max_attempts = 3;
  std::chrono::milliseconds backoff{1000};
  std::chrono::milliseconds request_timeout{5000};
};

// {"version":"4","groupKey","truncatedAlerts":0,"status","receiver","groupLabels",
//  "commonLabels","commonAnnotations","externalURL",
//  "alerts":[{"status","labels","annotations","startsAt","endsAt","generatorURL","fingerprint"}]}
nlohmann::json AlertmanagerPayload(const std::vector<AlertNotification>& group,
                                   const AlertConfig& config, const AlertWebhookOptions& options);

class AlertNotifier {
 public:
  AlertNotifier(AlertWebhookOptions options, AlertConfig config,
                std::unique_ptr<OtlpTransport> transport, prometheus::Registry* registry = nullptr);
  static Result<std::unique_ptr<AlertNotifier>> Create(AlertWebhookOptions options,
                                                       AlertConfig config,
                                                       prometheus::Registry* registry = nullptr);
  ~AlertNotifier();  // sends what is queued (bounded by the retry budget) and joins

  // Queues one payload per notification; drops (and counts) when the queue is full.
  void Notify(const std::vector<AlertNotification>& notifications);
  // Waits until everything queued has been attempted; true if it drained in time.
  bool Flush(std::chrono::milliseconds timeout);

  uint64_t sent() const;
  uint64_t failed() const;

 private:
  void Run();
  const AlertWebhookOptions options_;
  const AlertConfig config_;
  std::unique_ptr<OtlpTransport> transport_;
  prometheus::Counter* sent_counter_ = nullptr;
  prometheus::Counter* failed_counter_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable wake_, drained_;
  std::deque<std::string> queue_;  // guarded by mu_
  bool busy_ = false, stopping_ = false;
  uint64_t sent_ = 0, failed_ = 0;
  std::thread thread_;
};

}  // namespace dte
