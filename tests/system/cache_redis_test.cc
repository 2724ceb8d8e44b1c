// System tests of `dte serve --redis`: two real workers share a real redis-server. A session
// started on one worker continues on the other and back, exactly as on a single worker; a long
// prompt served by one is a prefix hit on the other; Redis going away mid-run only costs hits.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "system/redis_process.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::RawRequest;
using testing::ServerProcess;

const std::string kDemoModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

json Parse(const testing::HttpReply& r) {
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.status << " " << r.body;
  return j;
}

json Chat(int port, const std::string& session, const std::string& content, int max_tokens) {
  json body = {{"model", "demo"},
               {"max_tokens", max_tokens},
               {"temperature", 0},
               {"session_id", session},
               {"messages", json::array({json{{"role", "user"}, {"content", content}}})}};
  testing::HttpReply r = RawRequest(port, "POST", "/v1/chat/completions", body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return Parse(r);
}

std::string NewSession(int port) {
  testing::HttpReply r = RawRequest(port, "POST", "/v1/sessions", R"({"system":"Be brief."})");
  EXPECT_EQ(r.status, 201) << r.body;
  return Parse(r).value("id", "");
}

class CacheRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (system("command -v redis-server >/dev/null 2>&1") != 0 ||
        system("command -v redis-cli >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "redis-server / redis-cli not installed (scripts/deps.sh installs them)";
    redis_ = std::make_unique<testing::RedisProcess>();
    ASSERT_TRUE(redis_->ready());
  }
  std::unique_ptr<testing::RedisProcess> redis_;
};

TEST_F(CacheRedisTest, SessionMovesBetweenWorkersAndContinuesExactly) {
  // Reference: all three turns on one worker without any cache.
  ServerProcess plain(kDemoModel, {"--no-cache"});
  const std::string ref_id = NewSession(plain.port());
  std::vector<json> reference;
  for (const char* turn : {"Tell me about the sea.", "And tomorrow?", "Thanks!"})
    reference.push_back(Chat(plain.port(), ref_id, turn, 8));

  ServerProcess a(kDemoModel, {"--redis", redis_->url()});
  ServerProcess b(kDemoModel, {"--redis", redis_->url()});
  ASSERT_GT(a.port(), 0);
  ASSERT_GT(b.port(), 0);
  const std::string id = NewSession(a.port());
  const int ports[] = {a.port(), b.port(), a.port()};  // A, then B, then back to A
  int i = 0;
  for (const char* turn : {"Tell me about the sea.", "And tomorrow?", "Thanks!"}) {
    json reply = Chat(ports[i], id, turn, 8);
    EXPECT_EQ(reply["choices"][0]["message"]["content"],
              reference[i]["choices"][0]["message"]["content"])
        << i;
    EXPECT_EQ(reply["usage"], reference[i]["usage"]) << i;  // no worker re-read the history
    ++i;
  }
  json info = Parse(RawRequest(b.port(), "GET", "/v1/sessions/" + id, ""));
  EXPECT_EQ(info["turns"], 4);  // the system prompt and three turns, whoever ran them
}

TEST_F(CacheRedisTest, PromptServedByOneWorkerIsAPrefixHitOnAnother) {
  std::string prompt = "A long shared system prompt for every agent of the weather office. ";
  for (int i = 0; i < 20; ++i)
    prompt += "Rule " + std::to_string(i) + ": keep answers short and factual. ";
  const std::string body =
      json{{"model", "demo"}, {"prompt", prompt}, {"max_tokens", 12}, {"temperature", 0}}.dump();
  ServerProcess a(kDemoModel, {"--redis", redis_->url()});
  ServerProcess b(kDemoModel, {"--redis", redis_->url()});
  json cold = Parse(RawRequest(a.port(), "POST", "/v1/completions", body));
  // Prefix checkpoints reach Redis in the background: wait for the key.
  for (int i = 0; i < 200 && redis_->KeyCount() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(redis_->KeyCount(), 1);
  json warm = Parse(RawRequest(b.port(), "POST", "/v1/completions", body));
  EXPECT_EQ(warm["choices"][0]["text"], cold["choices"][0]["text"]);
  EXPECT_EQ(warm["usage"]["prompt_tokens_details"]["cached_tokens"],
            cold["usage"]["prompt_tokens"]);
}

TEST_F(CacheRedisTest, RedisGoingAwayOnlyCostsHits) {
  ServerProcess a(kDemoModel, {"--redis", redis_->url()});
  const std::string id = NewSession(a.port());
  Chat(a.port(), id, "Hello.", 4);
  redis_->Stop();
  // Requests still succeed, sessions held here still continue.
  json reply = Chat(a.port(), id, "Still there?", 4);
  EXPECT_EQ(reply["usage"]["completion_tokens"], 4);
  testing::HttpReply r =
      RawRequest(a.port(), "POST", "/v1/completions",
                 json{{"model", "demo"}, {"prompt", "Hi there."}, {"max_tokens", 3}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  testing::HttpReply stats = RawRequest(a.port(), "GET", "/v1/cache/stats", "");
  ASSERT_EQ(stats.status, 200);
  // The outage is visible: the redis tier counts failed or skipped operations...
  const json j = json::parse(stats.body);
  const json& redis = j["tiers"].back();
  EXPECT_EQ(redis["name"], "redis");
  EXPECT_GT(redis["writes"].get<int64_t>(), 0);  // the first turn went through
  EXPECT_GT(redis["errors"].get<int64_t>() + redis["skipped"].get<int64_t>(), 0) << stats.body;
  // ... and so does /metrics.
  testing::HttpReply metrics = RawRequest(a.port(), "GET", "/metrics", "");
  EXPECT_NE(metrics.body.find("dte_cache_errors_total{tier=\"redis\"}"), std::string::npos);
}

}  // namespace
}  // namespace dte
