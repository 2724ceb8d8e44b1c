// System tests of the state cache in `dte serve`: the real binary with --cache-dir is stopped
// with SIGTERM and restarted, and a long prompt it served before is a prefix hit from disk (L3)
// with identical greedy output; a session continues across the restart; /v1/cache/stats has its
// documented shape; /v1/cache/clear is admin-only (bearer token, or loopback without one);
// --cache-eviction picks the RAM tiers' policy.

#include <gtest/gtest.h>
#include <ifaddrs.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "system/server_process.h"
#include "system/shell.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::RawRequest;
using testing::ServerProcess;

const std::string kDemoModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

std::string LongPrompt() {
  std::string p = "You are a meticulous assistant for a seaside town's weather office. ";
  for (int i = 0; i < 30; ++i)
    p += "Report " + std::to_string(i) + ": the wind is calm and the sea is flat. ";
  return p + "Summary:";
}

std::string CompletionBody(const std::string& prompt, int max_tokens) {
  return json{{"model", "demo"}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}}
      .dump();
}

json Parse(const testing::HttpReply& r) {
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.status << " " << r.body;
  return j;
}

json TierNamed(const json& stats, const std::string& name) {
  for (const json& t : stats["tiers"])
    if (t["name"] == name) return t;
  ADD_FAILURE() << "no tier " << name << " in " << stats.dump();
  return json::object();
}

class CacheServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dte_cache_serve_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CacheServeTest, LongPromptIsAPrefixHitFromDiskAfterARestart) {
  const std::string prompt = LongPrompt();
  json cold;
  {
    ServerProcess server(kDemoModel, {"--cache-dir", dir_.string()});
    ASSERT_GT(server.port(), 0);
    testing::HttpReply r =
        RawRequest(server.port(), "POST", "/v1/completions", CompletionBody(prompt, 24));
    ASSERT_EQ(r.status, 200) << r.body;
    cold = Parse(r);
    EXPECT_EQ(cold["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    // Nothing on disk yet: the checkpoint sits in RAM until the shutdown flush.
    json stats = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
    EXPECT_EQ(TierNamed(stats, "l3")["entries"], 0);
    EXPECT_EQ(server.Terminate(), 0);
  }
  ASSERT_FALSE(std::filesystem::is_empty(dir_));
  {
    ServerProcess server(kDemoModel, {"--cache-dir", dir_.string()});
    ASSERT_GT(server.port(), 0);
    json before = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
    EXPECT_GE(TierNamed(before, "l3")["entries"].get<int64_t>(), 1);
    EXPECT_EQ(TierNamed(before, "l1")["entries"], 0);
    testing::HttpReply r =
        RawRequest(server.port(), "POST", "/v1/completions", CompletionBody(prompt, 24));
    ASSERT_EQ(r.status, 200) << r.body;
    json warm = Parse(r);
    EXPECT_EQ(warm["choices"][0]["text"], cold["choices"][0]["text"]);
    EXPECT_EQ(warm["usage"]["prompt_tokens"], cold["usage"]["prompt_tokens"]);
    EXPECT_EQ(warm["usage"]["prompt_tokens_details"]["cached_tokens"],
              cold["usage"]["prompt_tokens"]);
    json after = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
    EXPECT_EQ(TierNamed(after, "l3")["hits"], 1);
    EXPECT_EQ(TierNamed(after, "l3")["promotions"], 1);
    EXPECT_EQ(after["prefix"]["hits"], 1);
    EXPECT_EQ(after["prefix"]["hit_tokens"], cold["usage"]["prompt_tokens"]);
    // The skipped tokens are counted for Prometheus too.
    testing::HttpReply metrics = RawRequest(server.port(), "GET", "/metrics", "");
    EXPECT_NE(metrics.body.find("dte_cache_prefix_hit_tokens_total " +
                                std::to_string(cold["usage"]["prompt_tokens"].get<int64_t>())),
              std::string::npos)
        << metrics.body;
    EXPECT_NE(metrics.body.find("dte_cache_hits_total{tier=\"l3\"} 1"), std::string::npos);
    EXPECT_EQ(server.Terminate(), 0);
  }
}

// Three steps of one session: create (with a system prompt), turn 1, then turn 2 in `second`
// (the same server, or a restarted one). Returns turn 2's reply.
json SessionTurns(ServerProcess& first, const std::function<ServerProcess&()>& second,
                  json* info_before_turn2) {
  testing::HttpReply created =
      RawRequest(first.port(), "POST", "/v1/sessions", R"({"system":"Be brief."})");
  EXPECT_EQ(created.status, 201) << created.body;
  const std::string id = Parse(created)["id"];
  json t1 = json{
      {"model", "demo"},
      {"max_tokens", 12},
      {"temperature", 0},
      {"session_id", id},
      {"messages", json::array({json{{"role", "user"}, {"content", "Tell me about the sea."}}})}};
  EXPECT_EQ(RawRequest(first.port(), "POST", "/v1/chat/completions", t1.dump()).status, 200);
  ServerProcess& server = second();
  testing::HttpReply got = RawRequest(server.port(), "GET", "/v1/sessions/" + id, "");
  EXPECT_EQ(got.status, 200) << got.body;
  *info_before_turn2 = Parse(got);
  json t2 = json{{"model", "demo"},
                 {"max_tokens", 8},
                 {"temperature", 0},
                 {"session_id", id},
                 {"messages", json::array({json{{"role", "user"}, {"content", "And tomorrow?"}}})}};
  testing::HttpReply r = RawRequest(server.port(), "POST", "/v1/chat/completions", t2.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  json reply = Parse(r);
  json after = Parse(RawRequest(server.port(), "GET", "/v1/sessions/" + id, ""));
  EXPECT_EQ(after["turns"], 3);
  return reply;
}

TEST_F(CacheServeTest, SessionContinuesIdenticallyAfterARestart) {
  json info_plain, info_restarted;
  ServerProcess plain(kDemoModel, {"--no-cache"});
  json reference = SessionTurns(
      plain, [&]() -> ServerProcess& { return plain; }, &info_plain);

  auto first = std::make_unique<ServerProcess>(
      kDemoModel, std::vector<std::string>{"--cache-dir", dir_.string()});
  std::unique_ptr<ServerProcess> restarted;
  json turn2 = SessionTurns(
      *first,
      [&]() -> ServerProcess& {
        EXPECT_EQ(first->Terminate(), 0);  // the session goes to disk
        restarted = std::make_unique<ServerProcess>(
            kDemoModel, std::vector<std::string>{"--cache-dir", dir_.string()});
        return *restarted;
      },
      &info_restarted);

  EXPECT_EQ(info_restarted["turns"], 2);  // the system prompt, then turn 1
  EXPECT_EQ(info_restarted["tokens"], info_plain["tokens"]);
  EXPECT_EQ(turn2["choices"][0]["message"]["content"],
            reference["choices"][0]["message"]["content"]);
  EXPECT_EQ(turn2["usage"],
            reference["usage"]);  // the history was not re-read after the restart either
}

// A chat prompt is checkpointed at the end of the system message and at its end, not just
// before "Assistant:" (that would split the prompt's last prefill into two steps for nothing):
// the next turn's history continues the prompt-end checkpoint, which it resumes from.
TEST_F(CacheServeTest, ChatTurnCheckpointsSkipTheOneBeforeTheGenerationPrompt) {
  ServerProcess server(kDemoModel);
  const json system = {{"role", "system"}, {"content", "You answer questions about the tides."}};
  const json user = {{"role", "user"}, {"content", "When is high tide today?"}};
  const json first = {{"model", "demo"}, {"messages", json::array({system, user})}, {"max_tokens", 4},
                      {"temperature", 0}};
  testing::HttpReply r = RawRequest(server.port(), "POST", "/v1/chat/completions", first.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json reply = Parse(r);
  const int64_t first_prompt_tokens = reply["usage"]["prompt_tokens"];
  json stats;
  for (int i = 0; i < 200; ++i) {
    stats = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
    if (stats["checkpoints"]["written"].get<int64_t>() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a third one would be here by now
  stats = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
  EXPECT_EQ(stats["checkpoints"]["written"], 2) << stats.dump();

  const json assistant = {{"role", "assistant"},
                          {"content", reply["choices"][0]["message"]["content"]}};
  const json next_user = {{"role", "user"}, {"content", "And tomorrow?"}};
  const json second = {{"model", "demo"},
                       {"messages", json::array({system, user, assistant, next_user})},
                       {"max_tokens", 1},
                       {"temperature", 0}};
  r = RawRequest(server.port(), "POST", "/v1/chat/completions", second.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(Parse(r)["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(),
            first_prompt_tokens);
}

TEST_F(CacheServeTest, ClearNeedsTheAdminToken) {
  ServerProcess server(kDemoModel, {"--admin-token", "s3cret"});
  ASSERT_EQ(
      RawRequest(server.port(), "POST", "/v1/completions", CompletionBody("Hello there, sea.", 2))
          .status,
      200);
  for (const std::string& header : {std::string(), std::string("Authorization: Bearer nope\r\n"),
                                    std::string("Authorization: s3cret\r\n")}) {
    testing::HttpReply r = RawRequest(server.port(), "POST", "/v1/cache/clear", "", header);
    EXPECT_EQ(r.status, 401) << header;
    json j = Parse(r);
    EXPECT_EQ(j["error"]["type"], "authentication_error");
  }
  // The checkpoint is written in the background: wait for it.
  json before;
  for (int i = 0; i < 200; ++i) {
    before = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
    if (TierNamed(before, "l1")["entries"].get<int64_t>() >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(TierNamed(before, "l1")["entries"].get<int64_t>(), 1);
  testing::HttpReply ok =
      RawRequest(server.port(), "POST", "/v1/cache/clear", "", "Authorization: Bearer s3cret\r\n");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Parse(ok)["cleared"], true);
  json after = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
  EXPECT_EQ(TierNamed(after, "l1")["entries"], 0);
  EXPECT_EQ(after["prefix"]["entries"], 0);
}

// A non-loopback IPv4 address of this machine, or "".
std::string ExternalAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof(buf));
    if (!std::string(buf).starts_with("127.")) found = buf;
  }
  freeifaddrs(list);
  return found;
}

int StatusFrom(const std::string& address, int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  testing::SendAll(fd, request);
  std::string reply = testing::ReadAll(fd);
  close(fd);
  return reply.starts_with("HTTP/1.1 ") ? std::atoi(reply.c_str() + 9) : 0;
}

TEST_F(CacheServeTest, WithoutATokenClearIsForLoopbackClientsOnly) {
  const std::string external = ExternalAddress();
  if (external.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  ServerProcess server(kDemoModel, {"--host", "0.0.0.0"});
  const std::string request =
      "POST /v1/cache/clear HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(StatusFrom(external, server.port(), request), 403);
  EXPECT_EQ(StatusFrom("127.0.0.1", server.port(), request), 200);
}

// --cache-eviction picks the policy of L1 and L2 (W-TinyLFU by default); L3 stays LRU. An
// unknown name is refused before the model loads.
TEST_F(CacheServeTest, EvictionPolicyFollowsTheFlag) {
  {
    ServerProcess server(kDemoModel, {"--cache-dir", dir_.string()});
    json stats = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
    EXPECT_EQ(TierNamed(stats, "l1")["eviction"], "wtinylfu");
    EXPECT_EQ(TierNamed(stats, "l2")["eviction"], "wtinylfu");
    EXPECT_EQ(TierNamed(stats, "l3")["eviction"], "lru");
  }
  {
    ServerProcess server(kDemoModel, {"--cache-dir", dir_.string(), "--cache-eviction", "s3fifo"});
    json stats = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
    EXPECT_EQ(TierNamed(stats, "l1")["eviction"], "s3fifo");
    EXPECT_EQ(TierNamed(stats, "l2")["eviction"], "s3fifo");
    EXPECT_EQ(TierNamed(stats, "l3")["eviction"], "lru");
  }
  const testing::ShellOutput bad = testing::Shell(std::string(DTE_BINARY) + " serve --model " +
                                                  kDemoModel + " --cache-eviction fifo");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.text.find("unknown eviction policy 'fifo'"), std::string::npos) << bad.text;
}

TEST_F(CacheServeTest, NoCacheServesWithoutOne) {
  ServerProcess server(kDemoModel, {"--no-cache"});
  testing::HttpReply r =
      RawRequest(server.port(), "POST", "/v1/completions", CompletionBody("Hello there, sea.", 2));
  ASSERT_EQ(r.status, 200);
  r = RawRequest(server.port(), "POST", "/v1/completions", CompletionBody("Hello there, sea.", 2));
  EXPECT_EQ(Parse(r)["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  json stats = Parse(RawRequest(server.port(), "GET", "/v1/cache/stats", ""));
  EXPECT_EQ(stats["enabled"], false);
  EXPECT_EQ(RawRequest(server.port(), "POST", "/v1/cache/clear", "").status, 404);
}

}  // namespace
}  // namespace dte
