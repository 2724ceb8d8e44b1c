// System tests of `dte route` in front of two real `dte serve` workers on the demo model:
// responses and streams pass through intact, a killed worker costs the client nothing, a hung
// (SIGSTOPped) worker is ejected by the probes and re-admitted after SIGCONT, sessions stick to
// the worker that holds their state whatever the policy, and /metrics is valid Prometheus text.

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <nlohmann/json.hpp>

#include "system/route_process.h"
#include "system/json_http.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::DteProcess;
using testing::RawRequest;
using testing::WaitFor;
using testing::ServerProcess;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

json BackendsOf(int router_port) {
  auto r = RawRequest(router_port, "GET", "/v1/backends", "");
  json j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

std::string StateOf(int router_port, const std::string& url) {
  const json all = BackendsOf(router_port);
  if (!all.contains("data")) return "no answer";
  for (const json& b : all["data"])
    if (b["url"] == url) return b["state"].get<std::string>();
  return "absent";
}

class RouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w1_ = std::make_unique<ServerProcess>(kModel);
    w2_ = std::make_unique<ServerProcess>(kModel);
    ASSERT_GT(w1_->port(), 0);
    ASSERT_GT(w2_->port(), 0);
    router_ = std::make_unique<DteProcess>(std::vector<std::string>{
        "route", "--listen", "127.0.0.1:0", "--backends", Url(w1_->port()) + "," + Url(w2_->port()),
        "--policy", policy_, "--probe-interval-ms", "100", "--probe-timeout-ms", "300",
        "--log-level", "warning"});
    ASSERT_GT(router_->port(), 0);
  }
  void TearDown() override {
    if (router_) {
      EXPECT_EQ(router_->Terminate(), 0);
    }
  }
  int port() const { return router_->port(); }

  std::string policy_ = "round_robin";
  std::unique_ptr<ServerProcess> w1_, w2_;
  std::unique_ptr<DteProcess> router_;
};

json Completion(const std::string& prompt, int max_tokens) {
  return {{"model", "demo"}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
}

TEST_F(RouteTest, CompletionsPassThroughIntactOnBothBackends) {
  const std::string body = Completion("The quick brown fox", 24).dump();
  auto direct = RawRequest(w1_->port(), "POST", "/v1/completions", body);
  ASSERT_EQ(direct.status, 200) << direct.body;
  const json want = json::parse(direct.body);
  std::set<std::string> backends;
  for (int i = 0; i < 4; ++i) {  // round-robin: both workers answer
    auto routed = RawRequest(port(), "POST", "/v1/completions", body);
    ASSERT_EQ(routed.status, 200) << routed.body;
    const json got = json::parse(routed.body);
    EXPECT_EQ(got["choices"], want["choices"]);
    // (cached_tokens differs: the second request on a worker hits its prefix cache)
    EXPECT_EQ(got["usage"]["prompt_tokens"], want["usage"]["prompt_tokens"]);
    EXPECT_EQ(got["usage"]["completion_tokens"], want["usage"]["completion_tokens"]);
    EXPECT_EQ(got["model"], want["model"]);
    backends.insert(testing::HeaderOf(routed.head, "X-DTE-Backend"));
  }
  EXPECT_EQ(backends, (std::set<std::string>{Url(w1_->port()), Url(w2_->port())}));
  auto models = RawRequest(port(), "GET", "/v1/models", "");
  EXPECT_EQ(models.status, 200);
  EXPECT_EQ(json::parse(models.body)["data"][0]["id"], "demo");
  // Errors pass through too, with the worker's status and body.
  auto bad = RawRequest(port(), "POST", "/v1/completions",
                        R"({"model":"demo","max_tokens":-1,"prompt":"x"})");
  auto bad_direct = RawRequest(w1_->port(), "POST", "/v1/completions",
                               R"({"model":"demo","max_tokens":-1,"prompt":"x"})");
  EXPECT_EQ(bad.status, bad_direct.status);
  EXPECT_EQ(bad.body, bad_direct.body);
}

// The text and finish reason of a streamed chat. (A worker merges the tokens a slow reader has
// not taken yet into one event, so the number of events depends on timing; the content not.)
std::pair<std::string, std::string> ChatStreamContent(const std::vector<std::string>& events) {
  std::string text, finish;
  for (const std::string& e : events) {
    if (e == "[DONE]") continue;
    const json j = json::parse(e);
    const json& choice = j["choices"][0];
    if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
  }
  return {text, finish};
}

TEST_F(RouteTest, StreamedChatIsTheSameEventsAsDirect) {
  json body = {{"model", "demo"},
               {"messages", {{{"role", "user"}, {"content", "Tell me about the sea."}}}},
               {"max_tokens", 32},
               {"temperature", 0},
               {"stream", true}};
  auto direct = RawRequest(w2_->port(), "POST", "/v1/chat/completions", body.dump());
  ASSERT_EQ(direct.status, 200);
  const std::vector<std::string> want = testing::SseDataOf(testing::DechunkBody(direct.body));
  ASSERT_GT(want.size(), 1u);
  ASSERT_EQ(want.back(), "[DONE]");
  for (int i = 0; i < 2; ++i) {
    auto routed = RawRequest(port(), "POST", "/v1/chat/completions", body.dump());
    ASSERT_EQ(routed.status, 200);
    EXPECT_NE(routed.head.find("text/event-stream"), std::string::npos) << routed.head;
    EXPECT_NE(routed.head.find("Transfer-Encoding: chunked"), std::string::npos) << routed.head;
    const std::vector<std::string> got = testing::SseDataOf(testing::DechunkBody(routed.body));
    ASSERT_GT(got.size(), 1u);
    EXPECT_EQ(got.back(), "[DONE]");
    EXPECT_EQ(ChatStreamContent(got), ChatStreamContent(want));
    EXPECT_EQ(ChatStreamContent(got).second, "length");
  }
}

TEST_F(RouteTest, AKilledWorkerCostsTheClientNothing) {
  const std::string body = Completion("Hello", 8).dump();
  ASSERT_EQ(RawRequest(port(), "POST", "/v1/completions", body).status, 200);
  kill(w1_->pid(), SIGKILL);
  waitpid(w1_->pid(), nullptr, 0);
  for (int i = 0; i < 12; ++i) {
    auto r = RawRequest(port(), "POST", "/v1/completions", body);
    EXPECT_EQ(r.status, 200) << i << ": " << r.body;
    EXPECT_EQ(testing::HeaderOf(r.head, "X-DTE-Backend"), Url(w2_->port()));
  }
  const std::string state = StateOf(port(), Url(w1_->port()));
  EXPECT_TRUE(state == "open" || state == "unhealthy" || state == "half_open") << state;
}

TEST_F(RouteTest, AHungWorkerIsEjectedAndReadmittedAfterItResumes) {
  kill(w1_->pid(), SIGSTOP);
  EXPECT_TRUE(WaitFor([&] { return StateOf(port(), Url(w1_->port())) == "unhealthy"; },
                      std::chrono::seconds(10)))
      << StateOf(port(), Url(w1_->port()));
  const std::string body = Completion("Hello", 8).dump();
  for (int i = 0; i < 6; ++i) {
    auto r = RawRequest(port(), "POST", "/v1/completions", body);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(testing::HeaderOf(r.head, "X-DTE-Backend"), Url(w2_->port()));
  }
  kill(w1_->pid(), SIGCONT);
  EXPECT_TRUE(WaitFor([&] { return StateOf(port(), Url(w1_->port())) == "healthy"; },
                      std::chrono::seconds(10)))
      << StateOf(port(), Url(w1_->port()));
  std::set<std::string> backends;
  for (int i = 0; i < 4; ++i)
    backends.insert(testing::HeaderOf(RawRequest(port(), "POST", "/v1/completions", body).head,
                                      "X-DTE-Backend"));
  EXPECT_EQ(backends.size(), 2u);
}

TEST_F(RouteTest, RouterMetricsAreValidPrometheusText) {
  ASSERT_EQ(RawRequest(port(), "POST", "/v1/completions", Completion("Hi", 2).dump()).status, 200);
  auto r = RawRequest(port(), "GET", "/metrics", "");
  ASSERT_EQ(r.status, 200);
  for (const char* name :
       {"dte_router_requests_total", "dte_router_request_duration_seconds",
        "dte_router_retries_total", "dte_router_backend_outstanding", "dte_router_backend_healthy",
        "dte_router_backends 2", "process_cpu_seconds_total"})
    EXPECT_NE(r.body.find(name), std::string::npos) << name;
  const std::string path = ::testing::TempDir() + "/dte_router_metrics.txt";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(r.body.data(), 1, r.body.size(), f);
  std::fclose(f);
  if (system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  EXPECT_EQ(system(("promtool check metrics < " + path + " >/dev/null 2>&1").c_str()), 0) << r.body;
}

// Round-robin would alternate the turns between the workers; the session pin keeps them home.
TEST_F(RouteTest, ASessionStaysOnTheWorkerThatHoldsItsState) {
  for (int s = 0; s < 4; ++s) {  // several sessions: some are created on each worker
    auto created = RawRequest(port(), "POST", "/v1/sessions", R"({"system":"You are terse."})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = json::parse(created.body)["id"];
    const std::string home = testing::HeaderOf(created.head, "X-DTE-Backend");
    for (int turn = 0; turn < 3; ++turn) {
      json body = {{"model", "demo"},
                   {"session_id", id},
                   {"messages", {{{"role", "user"}, {"content", "Turn " + std::to_string(turn)}}}},
                   {"max_tokens", 4},
                   {"temperature", 0}};
      auto r = RawRequest(port(), "POST", "/v1/chat/completions", body.dump());
      EXPECT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(testing::HeaderOf(r.head, "X-DTE-Backend"), home);
    }
    auto info = RawRequest(port(), "GET", "/v1/sessions/" + id, "");
    EXPECT_EQ(info.status, 200) << info.body;
    EXPECT_GE(json::parse(info.body)["turns"].get<int>(), 3) << info.body;
  }
}

}  // namespace
}  // namespace dte

namespace dte {
namespace {

double MetricValue(const std::string& text, const std::string& name) {
  size_t pos = text.find("\n" + name + " ");
  return pos == std::string::npos ? -1 : std::atof(text.c_str() + pos + name.size() + 2);
}

// A client that goes away through the router stops the generation on the worker, streamed or
// not: the router closes its backend connection and the worker cancels the sequence.
TEST(RouteCancelTest, AClientThatLeavesStopsTheGenerationOnTheWorker) {
  ServerProcess worker(kModel, {"--max-tokens-limit", "1000000"});
  ASSERT_GT(worker.port(), 0);
  DteProcess router({"route", "--listen", "127.0.0.1:0", "--backends", Url(worker.port()),
                     "--log-level", "warning"});
  ASSERT_GT(router.port(), 0);
  for (bool stream : {true, false}) {
    json body = {{"model", "demo"},
                 {"prompt", "Once upon a time"},
                 {"max_tokens", 1000000},
                 {"stream", stream}};
    int fd = testing::Connect(router.port());
    ASSERT_GE(fd, 0);
    const std::string req =
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
        "application/json\r\nContent-Length: " +
        std::to_string(body.dump().size()) + "\r\n\r\n" + body.dump();
    ASSERT_TRUE(testing::SendAll(fd, req));
    // Wait until the worker is generating, then hang up.
    ASSERT_TRUE(WaitFor(
        [&] {
          return MetricValue(RawRequest(worker.port(), "GET", "/metrics", "").body,
                             "dte_active_sequences") == 1;
        },
        std::chrono::seconds(10)))
        << "stream=" << stream;
    close(fd);
    EXPECT_TRUE(WaitFor(
        [&] {
          return MetricValue(RawRequest(worker.port(), "GET", "/metrics", "").body,
                             "dte_active_sequences") == 0;
        },
        std::chrono::seconds(5)))
        << "the worker kept generating after the client left (stream=" << stream << ")";
  }
  const double generated = MetricValue(RawRequest(worker.port(), "GET", "/metrics", "").body,
                                       "dte_generated_tokens_total");
  EXPECT_LT(generated, 500000) << "a million-token generation ran to its end";
  EXPECT_EQ(router.Terminate(), 0);
}

}  // namespace
}  // namespace dte
