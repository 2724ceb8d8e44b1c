#pragma once
// Proxy: the route handler that forwards one client request to a backend and the response back.
//
//   pick (policy over the eligible backends) -> forward (Upstream) -> relay
//
// A request whose session is pinned (SessionPins) goes to the session's worker whatever the
// policy says, as long as that worker is eligible. Streams (chunked responses, e.g. SSE) are
// relayed chunk by chunk as they arrive; whole responses are relayed whole. A request is retried on
// another backend only while nothing has reached the client: when the connection fails, the head
// does not come, or the head is 429 / 502 / 503 (the backend did not take the work), and only while
// the retry budget allows. Outcomes feed each backend's circuit breaker and the metrics. A client
// that disconnects closes the backend request (Upstream watches req.cancel).
//
// With a tracer, each request is a `router.proxy` server span (child of the client's
// `traceparent`) and each attempt a `router.upstream` client span whose context goes to the
// worker as `traceparent`; with logging on, each request writes one JSON line (LogRequest).
//
// Thread-safe; the pool, policy, budget and metrics must outlive the io threads.

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "http/handler.h"
#include "router/backend_pool.h"
#include "router/policy.h"
#include "router/retry_budget.h"
#include "router/router_metrics.h"
#include "router/session_pins.h"
#include "telemetry/tracer.h"

namespace dte::router {

struct ProxyOptions {
  int max_attempts = 3;  // first try included
};

// The routing facts of a request: the affinity key (session_id, else user; or the id in
// /v1/sessions/{id}) and the prompt text (completions' prompt, chat messages rendered as
// "role: content" lines). A body that is not JSON gives an empty context.
RouteContext ExtractRouteContext(std::string_view path, std::string_view body);

class Proxy {
 public:
  Proxy(BackendPool& pool, Policy& policy, RetryBudget& budget, RouterMetrics& metrics,
        ProxyOptions options = {});

  // Sets the tracer for the `router.proxy` / `router.upstream` spans (null: none; the client's
  // traceparent then passes through unchanged) and whether each request logs a JSON line.
  // Call before serving.
  void SetTelemetry(const Tracer* tracer, bool log_requests) {
    tracer_ = tracer;
    log_requests_ = log_requests;
  }

  // `route`: the matched route pattern (for the span and the log line); must outlive the call.
  asio::awaitable<void> Handle(http::Request& req, http::Responder& res,
                               std::string_view route = {});

  Policy& policy() { return policy_; }
  SessionPins& pins() { return pins_; }

 private:
  // What became of a request, for its span and log line.
  struct Outcome {
    int status = 0;  // sent to the client (0: the client left)
    std::string backend = "none";
    std::string error;
  };
  asio::awaitable<void> Forward(http::Request& req, http::Responder& res, Span& span,
                                Outcome& out);
  std::shared_ptr<Backend> Pick(const RouteContext& ctx, const std::vector<std::string>& tried);

  BackendPool& pool_;
  Policy& policy_;
  RetryBudget& budget_;
  RouterMetrics& metrics_;
  const ProxyOptions options_;
  SessionPins pins_;
  const Tracer* tracer_ = nullptr;
  bool log_requests_ = false;
};

}  // namespace dte::router
