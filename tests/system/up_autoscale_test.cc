// System test of `dte up --workers MIN..MAX` with the autoscaler: real router, real workers.
// A burst of concurrent streaming generations (workers at --max-batch 4, so requests queue)
// scales the fleet out, with a scale_up event that says why; once the clients hang up it scales
// back in; the admin override is clamped to MAX and rejects bad JSON; SIGTERM stops everything
// (exit 0, no worker left behind).

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "system/route_process.h"
#include "system/json_http.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::DteProcess;
using testing::RawRequest;
using testing::GetJson;
using testing::PoolSize;
using testing::HealthyCount;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

// Polls `pred` every 100 ms until it holds or `timeout` passes; records `up`'s children meanwhile.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::seconds timeout, pid_t up, std::set<pid_t>* seen) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::set<pid_t> now = testing::ChildPids(up);
    seen->insert(now.begin(), now.end());
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::vector<json> EventsOfKind(int port, const std::string& kind) {
  std::vector<json> out;
  json j = GetJson(port, "/v1/scaling/events");
  if (!j.is_object() || !j.contains("events")) return out;
  for (const json& e : j["events"])
    if (e["kind"] == kind) out.push_back(e);
  return out;
}

// Concurrent streaming completions through the router, held open until Stop().
class StreamBurst {
 public:
  StreamBurst(int port, int n) {
    const std::string body = json{
        {"model", "demo"},
        {"prompt", "Once upon a time"},
        {"max_tokens", 4000},
        {"temperature", 0},
        {"stream", true}}.dump();
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this, port, body] {
        int fd = testing::Connect(port);
        if (fd < 0) return;
        {
          std::lock_guard lock(mu_);
          fds_.push_back(fd);
        }
        const std::string req =
            "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
            "application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        testing::SendAll(fd, req);
        char buf[4096];
        while (!stop_.load()) {
          ssize_t got = recv(fd, buf, sizeof(buf), 0);
          if (got > 0) {
            bytes_.fetch_add(static_cast<size_t>(got));
            continue;
          }
          if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) break;
        }
      });
    }
  }
  ~StreamBurst() { Stop(); }
  // Hangs up every client: the router cancels the backends' requests.
  void Stop() {
    stop_.store(true);
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
    std::lock_guard lock(mu_);
    for (int fd : fds_) close(fd);
    fds_.clear();
  }
  size_t bytes() const { return bytes_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<size_t> bytes_{0};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
};

class UpAutoscalePolicyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(UpAutoscalePolicyTest, BurstScalesOutThenInOverrideIsClampedAndSigtermLeavesNoWorker) {
  std::vector<std::string> args = {"up",
                                   "--workers",
                                   "1..3",
                                   "--model",
                                   kModel,
                                   "--model-name",
                                   "demo",
                                   "--port",
                                   "0",
                                   "--threads",
                                   "1",
                                   "--log-level",
                                   "warning",
                                   "--worker-args=--max-batch 4",
                                   "--scale-policy",
                                   GetParam(),
                                   "--scale-period",
                                   "0.5",
                                   "--scale-up-window-s",
                                   "0",
                                   "--scale-up-cooldown-s",
                                   "1",
                                   "--scale-down-window-s",
                                   "3",
                                   "--scale-down-cooldown-s",
                                   "2",
                                   "--scale-demand-smoothing-s",
                                   "1"};
  DteProcess up(args);
  ASSERT_GT(up.port(), 0) << "dte up did not print its listening line";
  const int port = up.port();
  std::set<pid_t> seen;
  EXPECT_EQ(PoolSize(port), 1);

  // The status names the policy and the bounds; the loop runs.
  json status = GetJson(port, "/v1/scaling/status");
  ASSERT_TRUE(status.is_object()) << status;
  EXPECT_EQ(status["policy"], GetParam());
  EXPECT_EQ(status["min_replicas"], 1);
  EXPECT_EQ(status["max_replicas"], 3);
  EXPECT_TRUE(WaitFor([&] { return GetJson(port, "/v1/scaling/status").value("steps", 0) >= 2; },
                      std::chrono::seconds(10), up.pid(), &seen));

  // 40 concurrent long streams against one worker that runs 4 at a time: the queue builds up.
  {
    StreamBurst burst(port, 40);
    EXPECT_TRUE(
        WaitFor([&] { return PoolSize(port) >= 2; }, std::chrono::seconds(30), up.pid(), &seen))
        << GetJson(port, "/v1/scaling/status").dump();
    EXPECT_GT(burst.bytes(), 0u) << "no stream delivered anything";
    std::vector<json> ups = EventsOfKind(port, "scale_up");
    ASSERT_FALSE(ups.empty()) << GetJson(port, "/v1/scaling/events").dump();
    EXPECT_EQ(ups[0]["from"], 1);
    EXPECT_GT(ups[0]["to"].get<int>(), 1);
    EXPECT_LE(ups[0]["to"].get<int>(), 3);
    EXPECT_FALSE(ups[0]["reason"].get<std::string>().empty());
    EXPECT_TRUE(ups[0]["inputs"].contains("load")) << ups[0].dump();
    EXPECT_GT(ups[0]["inputs"]["load"].get<double>(), 0.8) << ups[0].dump();
    // The new workers join the pool and take requests.
    EXPECT_TRUE(WaitFor([&] { return HealthyCount(port) >= 2; }, std::chrono::seconds(20), up.pid(),
                        &seen));
    burst.Stop();
  }

  // Load gone: back to MIN after the down window, with a scale_down event.
  EXPECT_TRUE(
      WaitFor([&] { return PoolSize(port) == 1; }, std::chrono::seconds(30), up.pid(), &seen))
      << GetJson(port, "/v1/scaling/status").dump();
  EXPECT_FALSE(EventsOfKind(port, "scale_down").empty())
      << GetJson(port, "/v1/scaling/events").dump();
  EXPECT_TRUE(WaitFor([&] { return testing::ChildPids(up.pid()).size() == 1; },
                      std::chrono::seconds(20), up.pid(), &seen));

  // The admin override: bad JSON is a 400 in the OpenAI error shape; a count above MAX is
  // clamped to it and applied.
  auto bad = RawRequest(port, "POST", "/v1/scaling/replicas", "{\"replicas\": \"many\"}");
  EXPECT_EQ(bad.status, 400);
  json err = json::parse(bad.body, nullptr, false);
  ASSERT_TRUE(err.is_object()) << bad.body;
  EXPECT_TRUE(err["error"].contains("message"));
  EXPECT_EQ(err["error"]["code"], "invalid_replicas");
  EXPECT_EQ(RawRequest(port, "POST", "/v1/scaling/replicas", "not json").status, 400);

  auto ok = RawRequest(port, "POST", "/v1/scaling/replicas", "{\"replicas\": 10}");
  EXPECT_EQ(ok.status, 202) << ok.body;
  json applied = json::parse(ok.body, nullptr, false);
  ASSERT_TRUE(applied.is_object()) << ok.body;
  EXPECT_EQ(applied["replicas"], 3);
  EXPECT_EQ(applied["requested"], 10);
  EXPECT_TRUE(
      WaitFor([&] { return HealthyCount(port) == 3; }, std::chrono::seconds(20), up.pid(), &seen));
  std::vector<json> overrides = EventsOfKind(port, "override");
  ASSERT_FALSE(overrides.empty());
  EXPECT_EQ(overrides.back()["to"], 3);
  EXPECT_LE(testing::ChildPids(up.pid()).size(), 3u);

  // A request still works through the scaled fleet.
  json body = {{"model", "demo"}, {"prompt", "Hello"}, {"max_tokens", 4}, {"temperature", 0}};
  EXPECT_EQ(RawRequest(port, "POST", "/v1/completions", body.dump()).status, 200);

  std::cout << "scaling events: " << GetJson(port, "/v1/scaling/events").dump() << "\n";
  std::set<pid_t> now = testing::ChildPids(up.pid());
  seen.insert(now.begin(), now.end());
  EXPECT_GE(seen.size(), 3u);
  EXPECT_EQ(up.Terminate(std::chrono::seconds(60)), 0);
  for (pid_t pid : seen)
    EXPECT_FALSE(testing::ProcessExists(pid)) << "worker " << pid << " outlived dte up";
}

INSTANTIATE_TEST_SUITE_P(Policies, UpAutoscalePolicyTest, ::testing::Values("hpa", "predictive"));

TEST(UpAutoscaleTest, FixedFleetHasNoScalingRoutes) {
  DteProcess up({"up", "--workers", "1..2", "--no-autoscale", "--model", kModel, "--port", "0",
                 "--threads", "1", "--log-level", "warning"});
  ASSERT_GT(up.port(), 0);
  EXPECT_EQ(RawRequest(up.port(), "GET", "/v1/scaling/status", "").status, 404);
  EXPECT_EQ(up.Terminate(std::chrono::seconds(60)), 0);
}

}  // namespace
}  // namespace dte
