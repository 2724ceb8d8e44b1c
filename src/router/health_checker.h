#pragma once
// HealthChecker: active health of the pool's backends. Every `interval` it sends GET /ready to
// each backend (in parallel, at most one probe per backend in flight, each with `timeout`);
// `fall` consecutive failures (non-200, refused, timed out — a hung process) mark the backend
// unhealthy, `rise` consecutive successes mark it healthy again. Passive health (the circuit
// breaker fed by real requests) is separate; a backend takes new requests only when both agree.
//
// Runs as coroutines on the router's io_context. Start() once the loop runs; Stop() before the
// loop stops (idempotent, thread-safe). The pool must outlive the io threads.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "router/backend_pool.h"

namespace dte::router {

struct HealthCheckOptions {
  std::chrono::milliseconds interval{500};
  std::chrono::milliseconds timeout{1'000};
  int fall = 2;
  int rise = 2;
  std::string path = "/ready";
};

class HealthChecker {
 public:
  // Called (on an io thread) when a backend's probe health flips.
  using TransitionFn = std::function<void(const std::string& url, bool healthy)>;

  HealthChecker(asio::any_io_executor executor, BackendPool& pool, HealthCheckOptions options,
                TransitionFn on_transition = {});
  ~HealthChecker();

  void Start();
  void Stop();

  struct State;  // shared with the probe coroutines (health_checker.cc)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace dte::router
