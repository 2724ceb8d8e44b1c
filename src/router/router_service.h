#pragma once
// RouterService: everything `dte route` runs in one object — the HTTP server, the backend pool,
// the balancing policy, the retry budget, the health checker, the proxy and the router's own
// endpoints:
//
//   every worker API route (/v1/completions, /v1/chat/completions, /v1/models[/{id}],
//   /v1/sessions[/...], /v1/cache/...)                 -> proxied
//   GET /v1/backends                                   -> the pool, as JSON
//   POST /v1/backends {"url": ...}                     -> add a backend (admin)
//   DELETE /v1/backends?url=...[&drain=false]          -> remove one (drained by default)
//   GET /v1/traces[/{id}], /v1/alerts, /v1/dashboard/summary, /dashboard[/{file}]
//                                                      -> observability (router/observability.h)
//   GET /health, /ready (200 while a backend is eligible), /metrics (dte_router_*)
//
// Lifecycle: Create(), Start(), then from any non-io thread Shutdown(drain_timeout) (stop
// accepting, let in-flight requests finish, stop probes, stop the loop). pool() is the
// interface for `dte up` and the autoscaler glue; it is valid for the object's lifetime.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/server.h"
#include "router/backend_pool.h"
#include "router/health_checker.h"
#include "router/observability.h"
#include "router/policy.h"
#include "router/proxy.h"
#include "router/retry_budget.h"
#include "router/router_metrics.h"

namespace dte::router {

struct RouterOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  int io_threads = 1;
  size_t body_limit = 8u << 20;
  std::string policy = "auto";
  AffinityOptions affinity;           // for session_affinity and auto
  PrefixOptions prefix;               // for prefix and auto
  std::vector<std::string> backends;  // initial backend URLs
  BackendPoolOptions pool;
  HealthCheckOptions health;
  RetryBudgetOptions retry_budget;
  ProxyOptions proxy;
  // Traces, alerts, the dashboard and request logs (router/observability.h).
  ObservabilityOptions observability;
  // Adds routes of the owner's to the router's server before it starts (e.g. the autoscaler
  // glue's /v1/scaling/...). Its handlers run on the io threads.
  std::function<void(http::Router&)> extra_routes;
};

class RouterService {
 public:
  // InvalidArgument for an unknown policy or a malformed backend URL.
  static Result<std::unique_ptr<RouterService>> Create(RouterOptions options);
  ~RouterService();

  // Binds and starts serving and probing.
  Status Start();
  uint16_t port() const { return server_->port(); }
  boost::asio::io_context& io_context() { return server_->io_context(); }
  BackendPool& pool() { return *pool_; }
  Policy& policy() { return *policy_; }
  // Tracing, alerts and the dashboard's history (the autoscaler glue posts scaling events with
  // dashboard_history().AddScalingEvent({unix_ms, from, to, reason})). Thread-safe.
  RouterObservability& observability() { return *observability_; }
  DashboardHistory& dashboard_history() { return observability_->history(); }
  // Idempotent; not from an io thread.
  void Shutdown(std::chrono::milliseconds drain_timeout);

  // Blocks the calling thread until SIGINT/SIGTERM arrives (watched from Start() on) or
  // RequestStop() is called. stop_requested() tells without blocking.
  void WaitForStop();
  void RequestStop();
  bool stop_requested() const;

 private:
  explicit RouterService(RouterOptions options);
  http::Router MakeRouter();
  asio::awaitable<void> ListBackends(http::Request& req, http::Responder& res);
  asio::awaitable<void> AddBackend(http::Request& req, http::Responder& res);
  asio::awaitable<void> RemoveBackend(http::Request& req, http::Responder& res);
  asio::awaitable<void> Ready(http::Request& req, http::Responder& res);
  asio::awaitable<void> Metrics(http::Request& req, http::Responder& res);

  const RouterOptions options_;
  std::unique_ptr<http::Server> server_;  // first: its io_context outlives the members below
  std::unique_ptr<BackendPool> pool_;
  std::unique_ptr<Policy> policy_;
  RetryBudget budget_;
  RouterMetrics metrics_;
  std::unique_ptr<RouterObservability> observability_;  // before the server's router uses it
  Status init_status_;
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<HealthChecker> health_;
  bool shut_down_ = false;
  std::unique_ptr<boost::asio::signal_set> signals_;
  mutable std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
};

}  // namespace dte::router
