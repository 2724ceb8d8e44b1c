#pragma once
// Backend and BackendPool: the workers a router sends requests to, with their live state.
//
// A Backend is one worker URL: its keep-alive connection pool (Upstream), its passive health
// (CircuitBreaker), its active health (set by the HealthChecker from /ready probes), whether it
// is draining, and counters. Backends are shared_ptr: a request holds its backend until it ends,
// so a backend removed from the pool meanwhile stays valid.
//
// BackendPool is the interface the router, `dte up` and the autoscaler glue use to change the
// set: AddBackend(url), RemoveBackend(url, drain) and Snapshot(). A drained removal marks the
// backend draining (no new requests) and drops it from the pool once its in-flight requests
// have finished; WaitRemoved() waits for that. All methods are thread-safe.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "router/circuit_breaker.h"
#include "router/upstream.h"

namespace dte::router {

struct BackendAddress {
  std::string url;  // normalized: "http://host:port"
  std::string host;
  uint16_t port = 0;
};
// Accepts "http://host:port", "http://host:port/" and "host:port".
Result<BackendAddress> ParseBackendUrl(std::string_view url);

class Backend {
 public:
  Backend(BackendAddress address, asio::any_io_executor executor, UpstreamOptions upstream,
          CircuitBreakerOptions breaker);

  const std::string& url() const { return address_.url; }
  const BackendAddress& address() const { return address_; }
  Upstream& upstream() { return upstream_; }
  CircuitBreaker& breaker() { return breaker_; }

  // May a new request go here now? (probe-healthy, not draining, breaker not refusing)
  bool Eligible(SteadyClock::time_point now = SteadyClock::now()) const;
  // "healthy", "unhealthy" (failed probes), "open" / "half_open" (breaker), "draining".
  std::string StateName() const;

  bool probe_healthy() const { return probe_healthy_.load(); }
  void set_probe_healthy(bool healthy) { probe_healthy_.store(healthy); }
  bool draining() const { return draining_.load(); }
  int64_t outstanding() const { return outstanding_.load(); }
  uint64_t requests() const { return requests_.load(); }
  uint64_t errors() const { return errors_.load(); }
  void CountError() { errors_.fetch_add(1); }

  // Health-checker bookkeeping: consecutive probe outcomes.
  std::atomic<int> probe_failures{0};
  std::atomic<int> probe_successes{0};

 private:
  friend class BackendPool;
  friend class InFlight;
  const BackendAddress address_;
  Upstream upstream_;
  CircuitBreaker breaker_;
  std::atomic<bool> probe_healthy_{true};
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> outstanding_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> errors_{0};
};

// One row of GET /v1/backends.
struct BackendSnapshot {
  std::string url;
  bool healthy = false;  // eligible for new requests
  std::string state;
  int64_t outstanding = 0;
  uint64_t requests = 0;
  uint64_t errors = 0;
};

struct BackendPoolOptions {
  UpstreamOptions upstream;
  CircuitBreakerOptions breaker;
};

class BackendPool;

// Counts one request in flight on a backend for as long as it lives (RAII).
class InFlight {
 public:
  InFlight(BackendPool& pool, std::shared_ptr<Backend> backend);
  ~InFlight();
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  Backend& backend() { return *backend_; }

 private:
  BackendPool& pool_;
  std::shared_ptr<Backend> backend_;
};

class BackendPool {
 public:
  using Backends = std::vector<std::shared_ptr<Backend>>;

  BackendPool(asio::any_io_executor executor, BackendPoolOptions options = {});

  // InvalidArgument for a malformed URL, Conflict if it is already in the pool (a draining one
  // included).
  Status AddBackend(std::string_view url);
  // drain: no new requests, dropped once idle; otherwise dropped now (requests in flight keep
  // going on their own). NotFound if absent.
  Status RemoveBackend(std::string_view url, bool drain);
  // Blocks until `url` is no longer in the pool (true) or `timeout` passes (false).
  bool WaitRemoved(std::string_view url, std::chrono::milliseconds timeout);

  std::vector<BackendSnapshot> Snapshot() const;
  // Every backend in the pool, draining ones included; a cheap shared copy.
  std::shared_ptr<const Backends> All() const;
  std::shared_ptr<Backend> Find(std::string_view url) const;
  size_t size() const;

  // Called (outside the pool's lock) with the URL of each backend that leaves the pool.
  void SetRemovalListener(std::function<void(const std::string& url)> listener);

 private:
  friend class InFlight;
  void OnRequestDone(Backend& backend);
  void EraseLocked(std::string_view url, std::vector<std::string>* removed);
  void NotifyRemoved(const std::vector<std::string>& removed);

  const asio::any_io_executor executor_;
  const BackendPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable removed_cv_;
  std::shared_ptr<const Backends> backends_;                  // copy-on-write; guarded by mu_
  std::function<void(const std::string&)> removal_listener_;  // guarded by mu_
};

}  // namespace dte::router
