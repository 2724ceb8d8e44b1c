#pragma once
// RouterObservability: the router's telemetry in one object — tracing (a Tracer + TraceStore,
// OTLP export when configured), the alert evaluation loop (scrapes every backend's /metrics each
// interval, feeds AlertEvaluator and the webhook notifier), the live dashboard's history, and the
// routes that show them:
//
//   GET /v1/traces[?limit=&min_duration_ms=&status=&name=]   GET /v1/traces/{id}
//   GET /v1/alerts                 GET /v1/dashboard/summary
//   GET /dashboard, /dashboard/{file}   (static files from ObservabilityOptions::dashboard_dir)
//
// Threading: tracer(), history(), alerts() are thread-safe; the loop runs as a coroutine on the
// router's io_context (Start), Stop() ends it and flushes the exporter and notifier.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/router.h"
#include "router/backend_pool.h"
#include "router/router_metrics.h"
#include "telemetry/alert_webhook.h"
#include "telemetry/alerts.h"
#include "telemetry/time_series.h"
#include "telemetry/tracing.h"

namespace dte::router {

struct ObservabilityOptions {
  std::string otlp_endpoint;         // --otlp-endpoint; empty: traces stay in memory
  double trace_sample_ratio = 1.0;   // --trace-sample-ratio
  size_t trace_store_spans = 10000;  // --trace-store-spans
  double alert_interval_s = 15;      // --alert-interval-s: scrape + evaluate + dashboard sample
  std::string alert_webhook;         // --alert-webhook URL (Alertmanager webhook JSON)
  std::string alert_config_path;     // --alert-config FILE (JSON, see ParseAlertConfig)
  std::string dashboard_dir;         // --dashboard-dir; empty: the source tree's web/dashboard
  bool log_requests = true;          // one JSON line per proxied request (level by status)
};

class RouterObservability {
 public:
  // InvalidArgument for a bad ratio, endpoint, webhook URL or alert config file.
  static Result<std::unique_ptr<RouterObservability>> Create(ObservabilityOptions options,
                                                             prometheus::Registry* registry);
  ~RouterObservability();

  const Tracer& tracer() const { return tracing_->tracer(); }
  const TraceStore& store() const { return tracing_->store(); }
  AlertEvaluator& alerts() { return *alerts_; }
  // The dashboard's history; the autoscaler glue posts scaling events here.
  DashboardHistory& history() { return history_; }
  const ObservabilityOptions& options() const { return options_; }

  void AddRoutes(http::Router& r);
  // Starts the evaluation loop on `io` (scrapes the pool's backends).
  void Start(boost::asio::io_context& io, BackendPool& pool, RouterMetrics& metrics);
  // Ends the loop, flushes spans and notifications (idempotent; not from an io thread).
  void Stop(std::chrono::milliseconds deadline);

  // The body of GET /v1/dashboard/summary; passes notifications to the webhook (if any).
  std::string SummaryJson() const;
  void Notify(const std::vector<AlertNotification>& due);

  struct LoopState;  // the loop's shared state (observability.cc)

 private:
  explicit RouterObservability(ObservabilityOptions options);
  nlohmann::json WorkersJson() const;

  const ObservabilityOptions options_;
  std::unique_ptr<Tracing> tracing_;
  std::unique_ptr<AlertEvaluator> alerts_;
  std::unique_ptr<AlertNotifier> notifier_;
  DashboardHistory history_;
  std::shared_ptr<LoopState> loop_;
  bool stopped_ = false;
};

}  // namespace dte::router
