#include "autoscale/background_actuator.h"

#include <algorithm>
#include <vector>

#include "base/log.h"

namespace dte::autoscale {

namespace asio = boost::asio;

BackgroundProcessActuator::BackgroundProcessActuator(BlockingWorkerHooks hooks, int parallelism)
    : hooks_(std::move(hooks)), parallelism_(std::max(1, parallelism)) {
  DTE_CHECK(hooks_.count && hooks_.spawn_one && hooks_.stop_one,
            "BackgroundProcessActuator needs count, spawn_one and stop_one");
  reconciler_ = std::thread([this] { Reconcile(); });
}

BackgroundProcessActuator::~BackgroundProcessActuator() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  reconciler_.join();
}

int BackgroundProcessActuator::target() const {
  std::lock_guard lock(mu_);
  return target_.value_or(hooks_.count());
}

bool BackgroundProcessActuator::busy() const {
  std::lock_guard lock(mu_);
  return busy_;
}

asio::awaitable<Result<int>> BackgroundProcessActuator::Current() { co_return target(); }

asio::awaitable<Status> BackgroundProcessActuator::SetReplicas(int replicas) {
  if (replicas < 0) co_return Status::InvalidArgument("replicas must be >= 0");
  Status error;
  {
    std::lock_guard lock(mu_);
    target_ = replicas;
    dirty_ = true;
    error = std::move(last_error_);
    last_error_ = Status::Ok();
  }
  cv_.notify_all();
  co_return error;
}

void BackgroundProcessActuator::Reconcile() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || dirty_; });
    if (stop_) return;
    dirty_ = false;
    const int want = *target_;
    lock.unlock();
    const int have = hooks_.count();
    const int ops = std::min(std::abs(want - have), parallelism_);
    std::vector<Status> results(ops);
    if (ops > 0) {
      {
        std::lock_guard busy_lock(mu_);
        busy_ = true;
      }
      std::vector<std::thread> threads;
      for (int i = 0; i < ops; ++i)
        threads.emplace_back(
            [&, i] { results[i] = want > have ? hooks_.spawn_one() : hooks_.stop_one(); });
      for (std::thread& t : threads) t.join();
    }
    Status failed;
    for (const Status& s : results)
      if (!s.ok() && failed.ok())
        failed = s.WithPrefix(want > have ? "spawn worker" : "stop worker");
    const int now = hooks_.count();
    if (failed.ok() && ops > 0 && now == have)  // hooks that "succeed" without effect: no hot loop
      failed = Status::Internal("worker count stayed at " + std::to_string(now) + " after " +
                                std::to_string(ops) + (want > have ? " spawns" : " stops"));
    lock.lock();
    busy_ = false;
    if (!failed.ok()) {
      LogWarning("autoscaler: " + failed.ToString());
      last_error_ = failed;
      if (!dirty_) target_ = now;  // what runs; the next decision starts from there
    } else if (now != *target_) {
      dirty_ = true;  // more to do (more than `parallelism_` at once, or the target moved)
    }
  }
}

}  // namespace dte::autoscale
