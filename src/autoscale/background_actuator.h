#pragma once
// BackgroundProcessActuator: the local actuator for a supervisor whose calls block (`dte up`'s
// LocalWorkerSupervisor: Spawn() returns once the worker is ready, Stop() once it has drained
// and exited). It keeps a target count, like a Deployment's spec.replicas: SetReplicas() only
// records the target and wakes a reconciler thread, which runs the blocking hooks — several at
// once — until count() reaches it, so the control loop never waits for a model to load or a
// stream to drain. Current() is the target.
//
// The reconciler works in rounds: it compares count() with the target, starts every spawn or
// stop the difference needs in parallel, waits for all of them, then compares again. (Counting
// while operations are in flight would race with the supervisor's own bookkeeping.) A round
// with a failure resets the target to count() and reports the error on the next SetReplicas().
// Thread-safe; the destructor waits for the round in progress.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "autoscale/actuator.h"

namespace dte::autoscale {

struct BlockingWorkerHooks {
  std::function<int()> count;         // ready workers not being stopped (supervisor.size())
  std::function<Status()> spawn_one;  // blocks until the new worker serves (Spawn())
  std::function<Status()> stop_one;   // picks one worker, drains and stops it (Stop(url, true))
};

class BackgroundProcessActuator : public Actuator {
 public:
  explicit BackgroundProcessActuator(BlockingWorkerHooks hooks, int parallelism = 4);
  ~BackgroundProcessActuator() override;
  BackgroundProcessActuator(const BackgroundProcessActuator&) = delete;
  BackgroundProcessActuator& operator=(const BackgroundProcessActuator&) = delete;

  boost::asio::awaitable<Result<int>> Current() override;
  boost::asio::awaitable<Status> SetReplicas(int replicas) override;
  std::string_view name() const override { return "local"; }

  int target() const;
  // True while a round of spawns/stops runs (for tests and status).
  bool busy() const;

 private:
  void Reconcile();

  const BlockingWorkerHooks hooks_;
  const int parallelism_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<int> target_;  // guarded by mu_; unset until the first SetReplicas
  bool dirty_ = false;         // guarded by mu_: the target changed since the last round
  bool busy_ = false;          // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  Status last_error_;          // guarded by mu_; reported once
  std::thread reconciler_;
};

}  // namespace dte::autoscale
