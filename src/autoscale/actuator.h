#pragma once
// Actuator: what turns a decision into running replicas. Two implementations:
//   LocalProcessActuator — delegates to the owner's callbacks (`dte up`'s worker supervisor
//     spawns one `dte serve`, or drains and stops one);
//   KubernetesActuator (kubernetes_actuator.h) — PATCHes a Deployment's scale subresource.
// Both are coroutines on the control loop's executor; the loop calls one method at a time.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dte::autoscale {

class Actuator {
 public:
  virtual ~Actuator() = default;
  // Replicas the platform runs or is starting now (not those draining out).
  virtual boost::asio::awaitable<Result<int>> Current() = 0;
  // Asks for `replicas` replicas; returns once the request is accepted (not once they are ready).
  virtual boost::asio::awaitable<Status> SetReplicas(int replicas) = 0;
  virtual std::string_view name() const = 0;
};

// The owner's hooks. `spawn_one` should return once the process is launched (readiness is the
// owner's business: it lists a worker to the scraper only once /ready answers); `stop_one`
// should return once the chosen worker stops getting new requests (it drains, then gets
// SIGTERM, in the background). Both run on the control loop's executor and must not block it.
struct LocalProcessCallbacks {
  std::function<int()> count;  // workers running or starting
  std::function<boost::asio::awaitable<Status>()> spawn_one;
  std::function<boost::asio::awaitable<Status>()> stop_one;
};

class LocalProcessActuator : public Actuator {
 public:
  explicit LocalProcessActuator(LocalProcessCallbacks callbacks);

  boost::asio::awaitable<Result<int>> Current() override;
  // Calls spawn_one / stop_one until count() == replicas; stops at the first error.
  boost::asio::awaitable<Status> SetReplicas(int replicas) override;
  std::string_view name() const override { return "local"; }

 private:
  LocalProcessCallbacks callbacks_;
};

}  // namespace dte::autoscale
