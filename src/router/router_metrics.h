#pragma once
// RouterMetrics: the router's Prometheus series (dte_router_*), plus the process metrics of
// MetricsRegistry, for the router's own GET /metrics. Per-backend gauges are refreshed from a
// pool snapshot at scrape time and dropped for backends that left. Thread-safe.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "router/backend_pool.h"
#include "telemetry/metrics_registry.h"

namespace dte::router {

class RouterMetrics {
 public:
  RouterMetrics();

  // One client request answered: `backend` is the URL that produced the response ("none" when
  // the router answered itself), `code` the status sent to the client (0: the client left).
  void ObserveRequest(const std::string& backend, int code, double seconds);
  void CountRetry();
  void CountRetryRefused();
  // kind: "connect", "timeout_or_io", "5xx".
  void CountBackendError(const std::string& backend, const std::string& kind);
  // reason: "probe", "breaker".
  void CountEjection(const std::string& backend, const std::string& reason);

  std::string Serialize(const std::vector<BackendSnapshot>& backends);

  // Client requests answered so far, and those answered with a 5xx (for the alert loop).
  uint64_t total_requests() const { return total_.load(std::memory_order_relaxed); }
  uint64_t failed_requests() const { return failed_.load(std::memory_order_relaxed); }
  // The registry behind /metrics (tracing and alert notification series are added to it).
  prometheus::Registry& registry() { return registry_.registry(); }

 private:
  MetricsRegistry registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& duration_;
  prometheus::Counter& retries_;
  prometheus::Counter& retries_refused_;
  prometheus::Family<prometheus::Counter>& backend_errors_;
  prometheus::Family<prometheus::Counter>& ejections_;
  prometheus::Family<prometheus::Gauge>& outstanding_;
  prometheus::Family<prometheus::Gauge>& healthy_;
  prometheus::Gauge& backends_;
  std::atomic<uint64_t> total_{0}, failed_{0};
  std::mutex mu_;
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>>
      per_backend_;  // guarded by mu_
};

}  // namespace dte::router
