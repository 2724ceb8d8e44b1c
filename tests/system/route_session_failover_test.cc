// System test: a session survives the loss of its worker when the workers share a Redis tier.
// `dte route` in front of two `dte serve --redis` workers and a real redis-server; a session is
// created and runs one turn through the router; its worker (named by X-DTE-Backend) is
// SIGKILLed; the next turn through the router succeeds on the other worker and continues the
// conversation exactly as a worker that never lost it does.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "system/route_process.h"
#include "system/redis_process.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::DteProcess;
using testing::RawRequest;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

std::string ChatBody(const std::string& session, const std::string& content) {
  return json{{"model", "demo"},
              {"max_tokens", 8},
              {"temperature", 0},
              {"session_id", session},
              {"messages", json::array({json{{"role", "user"}, {"content", content}}})}}
      .dump();
}

json ParseOk(const testing::HttpReply& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body, nullptr, false);
}

TEST(RouteSessionFailoverTest, SessionContinuesOnAnotherWorkerAfterItsWorkerIsKilled) {
  if (system("command -v redis-server >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "redis-server not installed (scripts/deps.sh installs it)";
  testing::RedisProcess redis;
  ASSERT_TRUE(redis.ready());
  const std::vector<std::string> worker_args = {
      "serve",     "--model", kModel,    "--model-name", "demo",        "--port", "0",
      "--threads", "1",       "--redis", redis.url(),    "--log-level", "warning"};
  auto a = std::make_unique<DteProcess>(worker_args);
  auto b = std::make_unique<DteProcess>(worker_args);
  DteProcess reference({"serve", "--model", kModel, "--model-name", "demo", "--port", "0",
                        "--threads", "1", "--log-level", "warning"});
  ASSERT_GT(a->port(), 0);
  ASSERT_GT(b->port(), 0);
  ASSERT_GT(reference.port(), 0);
  DteProcess router({"route", "--listen", "127.0.0.1:0", "--backends", a->url() + "," + b->url(),
                     "--probe-interval-ms", "100", "--log-level", "error"});
  ASSERT_GT(router.port(), 0);

  // The reference conversation, on a worker that keeps it throughout.
  const std::string system = R"({"system":"Be brief."})";
  auto ref_created = RawRequest(reference.port(), "POST", "/v1/sessions", system);
  ASSERT_EQ(ref_created.status, 201) << ref_created.body;
  const std::string ref_id = json::parse(ref_created.body)["id"];
  json ref1 = ParseOk(RawRequest(reference.port(), "POST", "/v1/chat/completions",
                                 ChatBody(ref_id, "Tell me about the sea.")));
  json ref2 = ParseOk(RawRequest(reference.port(), "POST", "/v1/chat/completions",
                                 ChatBody(ref_id, "And tomorrow?")));

  // The same conversation through the router; its first turn lands on the session's worker.
  auto created = RawRequest(router.port(), "POST", "/v1/sessions", system);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  const std::string home = testing::HeaderOf(created.head, "X-DTE-Backend");
  ASSERT_TRUE(home == a->url() || home == b->url()) << created.head;
  auto turn1 = RawRequest(router.port(), "POST", "/v1/chat/completions",
                          ChatBody(id, "Tell me about the sea."));
  EXPECT_EQ(testing::HeaderOf(turn1.head, "X-DTE-Backend"), home);
  EXPECT_EQ(ParseOk(turn1)["choices"][0]["message"]["content"],
            ref1["choices"][0]["message"]["content"]);

  // Its worker dies.
  std::unique_ptr<DteProcess>& victim = home == a->url() ? a : b;
  const std::string survivor = home == a->url() ? b->url() : a->url();
  victim->Terminate(std::chrono::seconds(10), SIGKILL);

  // The next turn goes to the other worker, which takes the session from Redis.
  auto turn2 =
      RawRequest(router.port(), "POST", "/v1/chat/completions", ChatBody(id, "And tomorrow?"));
  ASSERT_EQ(turn2.status, 200) << turn2.head << "\n" << turn2.body;
  EXPECT_EQ(testing::HeaderOf(turn2.head, "X-DTE-Backend"), survivor);
  json reply2 = json::parse(turn2.body, nullptr, false);
  EXPECT_EQ(reply2["choices"][0]["message"]["content"], ref2["choices"][0]["message"]["content"]);
  EXPECT_EQ(reply2["usage"], ref2["usage"]);  // the history was not re-read

  // And the session stays there.
  auto turn3 = RawRequest(router.port(), "POST", "/v1/chat/completions", ChatBody(id, "Thanks!"));
  EXPECT_EQ(turn3.status, 200) << turn3.body;
  EXPECT_EQ(testing::HeaderOf(turn3.head, "X-DTE-Backend"), survivor);
  auto info = RawRequest(router.port(), "GET", "/v1/sessions/" + id, "");
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(json::parse(info.body)["turns"], 4);  // the system prompt and three turns
  EXPECT_EQ(router.Terminate(std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace dte
