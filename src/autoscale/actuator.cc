#include "autoscale/actuator.h"

namespace dte::autoscale {

namespace asio = boost::asio;

LocalProcessActuator::LocalProcessActuator(LocalProcessCallbacks callbacks)
    : callbacks_(std::move(callbacks)) {
  DTE_CHECK(callbacks_.count && callbacks_.spawn_one && callbacks_.stop_one,
            "LocalProcessActuator needs count, spawn_one and stop_one");
}

asio::awaitable<Result<int>> LocalProcessActuator::Current() { co_return callbacks_.count(); }

asio::awaitable<Status> LocalProcessActuator::SetReplicas(int replicas) {
  if (replicas < 0) co_return Status::InvalidArgument("replicas must be >= 0");
  // Bounded: a callback that reports success without changing count() cannot loop forever.
  for (int guard = 0; guard < 4096; ++guard) {
    const int now = callbacks_.count();
    if (now == replicas) co_return Status::Ok();
    // (Awaitables hoisted into locals: GCC 12 mishandles temporaries inside co_await.)
    Status s;
    if (now < replicas) {
      asio::awaitable<Status> op = callbacks_.spawn_one();
      s = co_await std::move(op);
    } else {
      asio::awaitable<Status> op = callbacks_.stop_one();
      s = co_await std::move(op);
    }
    if (!s.ok()) co_return s.WithPrefix(now < replicas ? "spawn worker" : "stop worker");
  }
  co_return Status::Internal("worker count did not converge to " + std::to_string(replicas));
}

}  // namespace dte::autoscale
