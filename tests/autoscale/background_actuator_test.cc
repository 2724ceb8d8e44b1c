// BackgroundProcessActuator with blocking hooks that take time, like LocalWorkerSupervisor's
// Spawn (waits for /ready) and Stop (drains): SetReplicas returns at once, the work runs in
// parallel rounds, failures come back on the next call.

#include "autoscale/background_actuator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_loop.h"

namespace dte::autoscale {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct FakeBlockingSupervisor {
  std::atomic<int> ready{2};
  std::atomic<int> in_flight{0}, max_in_flight{0};
  std::atomic<bool> fail_spawn{false};
  std::atomic<bool> gate_open{true};  // while closed, every operation waits

  Status Op(int delta) {
    const int n = ++in_flight;
    for (int m = max_in_flight.load(); n > m && !max_in_flight.compare_exchange_weak(m, n);) {
    }
    while (!gate_open.load()) std::this_thread::sleep_for(1ms);
    --in_flight;
    if (delta > 0 && fail_spawn.load())
      return Status::Unavailable("worker exited before it was ready");
    ready += delta;
    return Status::Ok();
  }
  BlockingWorkerHooks Hooks() {
    return {[this] { return ready.load(); }, [this] { return Op(+1); }, [this] { return Op(-1); }};
  }
};

template <class Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(10ms);
  return pred();
}

TEST(BackgroundProcessActuatorTest, ReturnsAtOnceAndConvergesInParallel) {
  testing::Loop loop;
  FakeBlockingSupervisor sup;
  BackgroundProcessActuator act(sup.Hooks(), /*parallelism=*/4);
  EXPECT_EQ(act.target(), 2);  // before any SetReplicas: what runs
  sup.gate_open = false;       // spawns block until the test opens the gate
  Status s = loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(7); });
  EXPECT_TRUE(s.ok());  // returned while every spawn is still blocked
  std::optional<Result<int>> current = loop.Run(
      [&]() -> asio::awaitable<std::optional<Result<int>>> { co_return co_await act.Current(); });
  EXPECT_EQ(**current, 7);  // the target, like spec.replicas
  ASSERT_TRUE(Eventually([&] { return sup.in_flight.load() == 4; }));  // a round of 4 at once
  EXPECT_EQ(sup.ready.load(), 2);
  EXPECT_TRUE(act.busy());
  sup.gate_open = true;
  ASSERT_TRUE(Eventually([&] { return sup.ready.load() == 7 && !act.busy(); }));
  EXPECT_EQ(sup.max_in_flight.load(), 4);  // 5 spawns: a round of 4, then 1
  EXPECT_TRUE(
      loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(3); }).ok());
  ASSERT_TRUE(Eventually([&] { return sup.ready.load() == 3 && !act.busy(); }));
}

TEST(BackgroundProcessActuatorTest, AFailedSpawnIsReportedAndTheTargetResets) {
  testing::Loop loop;
  FakeBlockingSupervisor sup;
  sup.fail_spawn = true;
  BackgroundProcessActuator act(sup.Hooks());
  EXPECT_TRUE(
      loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(4); }).ok());
  ASSERT_TRUE(Eventually([&] { return act.target() == 2 && !act.busy(); }));
  Status next =
      loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(2); });
  EXPECT_EQ(next.code(), StatusCode::kUnavailable);
  EXPECT_NE(next.message().find("spawn worker"), std::string::npos) << next.ToString();
  Status after =
      loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(2); });
  EXPECT_TRUE(after.ok());  // reported once
}

TEST(BackgroundProcessActuatorTest, HooksWithoutEffectDoNotSpin) {
  testing::Loop loop;
  std::atomic<int> calls{0};
  BlockingWorkerHooks hooks{[] { return 1; },
                            [&] {
                              ++calls;
                              return Status::Ok();
                            },
                            [&] {
                              ++calls;
                              return Status::Ok();
                            }};
  BackgroundProcessActuator act(hooks);
  EXPECT_TRUE(
      loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(3); }).ok());
  ASSERT_TRUE(Eventually([&] { return act.target() == 1 && !act.busy(); }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(calls.load(), 2);
  Status s = loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(1); });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace dte::autoscale
