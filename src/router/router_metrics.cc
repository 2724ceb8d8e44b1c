#include "router/router_metrics.h"

#include <set>

namespace dte::router {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

RouterMetrics::RouterMetrics()
    : requests_(BuildCounter()
                    .Name("dte_router_requests_total")
                    .Help("Client requests answered by the router, by backend and status code.")
                    .Register(registry_.registry())),
      duration_(
          BuildHistogram()
              .Name("dte_router_request_duration_seconds")
              .Help("Client request duration through the router, first byte in to last byte out.")
              .Register(registry_.registry())
              .Add({}, MetricsRegistry::ExponentialBuckets(0.0001, 2, 20))),
      retries_(
          BuildCounter()
              .Name("dte_router_retries_total")
              .Help("Requests sent again to another backend before any byte reached the client.")
              .Register(registry_.registry())
              .Add({})),
      retries_refused_(BuildCounter()
                           .Name("dte_router_retries_refused_total")
                           .Help("Retries not made because the retry budget was spent.")
                           .Register(registry_.registry())
                           .Add({})),
      backend_errors_(
          BuildCounter()
              .Name("dte_router_backend_errors_total")
              .Help("Failed exchanges with a backend, by kind (connect, timeout_or_io, 5xx).")
              .Register(registry_.registry())),
      ejections_(BuildCounter()
                     .Name("dte_router_ejections_total")
                     .Help("Backends taken out of rotation, by reason (probe, breaker).")
                     .Register(registry_.registry())),
      outstanding_(BuildGauge()
                       .Name("dte_router_backend_outstanding")
                       .Help("Requests in flight to each backend through this router.")
                       .Register(registry_.registry())),
      healthy_(BuildGauge()
                   .Name("dte_router_backend_healthy")
                   .Help("1 when the backend takes new requests, else 0.")
                   .Register(registry_.registry())),
      backends_(BuildGauge()
                    .Name("dte_router_backends")
                    .Help("Backends in the pool, draining ones included.")
                    .Register(registry_.registry())
                    .Add({})) {}

void RouterMetrics::ObserveRequest(const std::string& backend, int code, double seconds) {
  requests_
      .Add({{"backend", backend},
            {"code", code == 0 ? std::string("client_gone") : std::to_string(code)}})
      .Increment();
  duration_.Observe(seconds);
  total_.fetch_add(1, std::memory_order_relaxed);
  if (code >= 500) failed_.fetch_add(1, std::memory_order_relaxed);
}

void RouterMetrics::CountRetry() { retries_.Increment(); }
void RouterMetrics::CountRetryRefused() { retries_refused_.Increment(); }

void RouterMetrics::CountBackendError(const std::string& backend, const std::string& kind) {
  backend_errors_.Add({{"backend", backend}, {"kind", kind}}).Increment();
}

void RouterMetrics::CountEjection(const std::string& backend, const std::string& reason) {
  ejections_.Add({{"backend", backend}, {"reason", reason}}).Increment();
}

std::string RouterMetrics::Serialize(const std::vector<BackendSnapshot>& backends) {
  {
    std::lock_guard lock(mu_);
    std::set<std::string> live;
    for (const BackendSnapshot& b : backends) {
      live.insert(b.url);
      auto& gauges = per_backend_[b.url];
      if (gauges.first == nullptr) {
        gauges.first = &outstanding_.Add({{"backend", b.url}});
        gauges.second = &healthy_.Add({{"backend", b.url}});
      }
      gauges.first->Set(static_cast<double>(b.outstanding));
      gauges.second->Set(b.healthy ? 1.0 : 0.0);
    }
    for (auto it = per_backend_.begin(); it != per_backend_.end();) {
      if (live.contains(it->first)) {
        ++it;
        continue;
      }
      outstanding_.Remove(it->second.first);
      healthy_.Remove(it->second.second);
      it = per_backend_.erase(it);
    }
    backends_.Set(static_cast<double>(backends.size()));
  }
  return registry_.Serialize();
}

}  // namespace dte::router
