// System test of `dte up`: the router plus supervised local workers behind one URL. It starts
// MIN workers, answers, restarts a worker that dies, and on SIGTERM drains and exits 0 leaving
// no worker process behind.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "system/route_process.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::DteProcess;
using testing::RawRequest;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

std::vector<std::string> HealthyUrls(int port) {
  std::vector<std::string> out;
  json j = json::parse(RawRequest(port, "GET", "/v1/backends", "").body, nullptr, false);
  if (j.is_discarded() || !j.contains("data")) return out;
  for (const json& b : j["data"])
    if (b["healthy"] == true) out.push_back(b["url"]);
  return out;
}

TEST(RouteUpTest, StartsWorkersAnswersRestartsADeadOneAndStopsCleanly) {
  DteProcess up({"up", "--workers", "2..3", "--model", kModel, "--model-name", "demo", "--port",
                 "0", "--threads", "1", "--log-level", "warning"});
  ASSERT_GT(up.port(), 0) << "dte up did not print its listening line";
  std::vector<std::string> urls = HealthyUrls(up.port());
  EXPECT_EQ(urls.size(), 2u);
  std::set<pid_t> workers = testing::ChildPids(up.pid());
  EXPECT_EQ(workers.size(), 2u);

  json body = {{"model", "demo"}, {"prompt", "Hello"}, {"max_tokens", 8}, {"temperature", 0}};
  auto r = RawRequest(up.port(), "POST", "/v1/completions", body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["usage"]["completion_tokens"], 8);
  EXPECT_EQ(RawRequest(up.port(), "GET", "/ready", "").status, 200);

  // A worker that dies is replaced; clients keep being served meanwhile.
  ASSERT_FALSE(workers.empty());
  const pid_t victim = *workers.begin();
  kill(victim, SIGKILL);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(RawRequest(up.port(), "POST", "/v1/completions", body.dump()).status, 200);
  bool replaced = false;
  std::set<pid_t> now;
  for (int i = 0; i < 200 && !replaced; ++i) {
    now = testing::ChildPids(up.pid());
    replaced = now.size() == 2 && !now.contains(victim) && HealthyUrls(up.port()).size() == 2;
    if (!replaced) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(replaced) << "children now: " << now.size();
  EXPECT_EQ(RawRequest(up.port(), "POST", "/v1/completions", body.dump()).status, 200);

  std::set<pid_t> all = workers;
  all.insert(now.begin(), now.end());
  EXPECT_EQ(up.Terminate(std::chrono::seconds(60)), 0);
  for (pid_t pid : all)
    EXPECT_FALSE(testing::ProcessExists(pid)) << "worker " << pid << " outlived dte up";
}

TEST(RouteUpTest, RejectsABadWorkerRange) {
  DteProcess up({"up", "--workers", "3..1", "--model", kModel, "--port", "0"});
  EXPECT_EQ(up.port(), 0);
  EXPECT_NE(up.Terminate(std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace dte
