// System tests of `dte serve`: the real binary on the demo model, spoken to over raw HTTP.
// Bad input of every kind gets a precise error and the server keeps serving.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>

#include "system/run_command.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::RawRequest;
using testing::ServerProcess;

const std::string kDemoModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

json ErrorOf(const testing::HttpReply& r) {
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  EXPECT_TRUE(j.contains("error")) << r.body;
  return j.is_discarded() ? json() : j["error"];
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess(kDemoModel); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static int port() { return server_->port(); }
  static std::string Complete(const std::string& prompt, int max_tokens) {
    json body = {{"model", "demo"}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
    auto r = RawRequest(port(), "POST", "/v1/completions", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? "" : j["choices"][0]["text"].get<std::string>();
  }
  static ServerProcess* server_;
};
ServerProcess* ServeTest::server_ = nullptr;

TEST_F(ServeTest, StartsAndAnswersHealthAndReady) {
  ASSERT_GT(port(), 0);
  EXPECT_EQ(RawRequest(port(), "GET", "/health", "").status, 200);
  EXPECT_EQ(RawRequest(port(), "GET", "/ready", "").status, 200);
}

TEST_F(ServeTest, MalformedRequestsGetPreciseErrors) {
  struct Case { std::string method, path, body; int status; std::string param; };
  const std::string big(9u << 20, 'x');
  std::vector<Case> cases = {
      {"POST", "/v1/completions", "{not json", 400, ""},
      {"POST", "/v1/completions", R"({"model":"demo","prompt":"x","temperature":"hot"})", 400, "temperature"},
      {"POST", "/v1/completions", R"({"model":"demo","prompt":"x","max_tokens":100000000})", 400, "max_tokens"},
      {"POST", "/v1/completions", R"({"model":"demo","prompt":"x","max_tokens":"many"})", 400, "max_tokens"},
      {"POST", "/v1/completions", R"({"model":"other","prompt":"x"})", 404, "model"},
      {"POST", "/v1/completions", "{\"model\":\"demo\",\"prompt\":\"\xff\xfe bad utf-8\"}", 400, ""},
      {"POST", "/v1/chat/completions", R"({"model":"demo","messages":"hi"})", 400, "messages"},
      {"POST", "/v1/chat/completions", R"({"model":"demo","messages":[{"role":"user","content":"x"}],"session_id":"sess_nope"})", 404, "session_id"},
      {"POST", "/v1/completions", "{\"model\":\"demo\",\"prompt\":\"" + big + "\"}", 413, ""},
      {"GET", "/v1/nothing-here", "", 404, ""},
      {"DELETE", "/v1/completions", "", 405, ""},
      {"GET", "/v1/sessions/sess_missing", "", 404, ""},
  };
  for (const Case& c : cases) {
    auto r = RawRequest(port(), c.method, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body.substr(0, 80) << "\n" << r.body;
    json e = ErrorOf(r);
    EXPECT_TRUE(e.contains("message") && e.contains("type") && e.contains("param") && e.contains("code")) << r.body;
    if (!c.param.empty()) EXPECT_EQ(e["param"], c.param) << r.body;
  }
  // The server is still fine.
  EXPECT_EQ(Complete("\"in", 10), "put\": \"\",\n");
}

TEST_F(ServeTest, ClientDisconnectMidStreamCancelsAndServerCarriesOn) {
  for (int i = 0; i < 3; ++i) {
    int fd = testing::Connect(port());
    ASSERT_GE(fd, 0);
    json body = {{"model", "demo"}, {"prompt", "Once upon a time"}, {"max_tokens", 4000}, {"stream", true}};
    std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.dump().size()) + "\r\n\r\n" + body.dump();
    ASSERT_TRUE(testing::SendAll(fd, req));
    char buf[512];
    ASSERT_GT(recv(fd, buf, sizeof(buf), 0), 0);  // the stream has begun
    close(fd);
  }
  EXPECT_EQ(Complete("\"in", 10), "put\": \"\",\n");
  // Cancelled sequences leave the batch within a step: active sequences drop back to zero.
  bool idle = false;
  for (int i = 0; i < 100 && !idle; ++i) {
    auto m = RawRequest(port(), "GET", "/metrics", "");
    idle = m.body.find("\ndte_active_sequences 0\n") != std::string::npos;
    if (!idle) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(idle);
}

TEST_F(ServeTest, StreamedAndWholeResponsesAgreeWithASeed) {
  json body = {{"model", "demo"}, {"prompt", "The sea"}, {"max_tokens", 24}, {"temperature", 1.0}, {"seed", 99}};
  auto whole = RawRequest(port(), "POST", "/v1/completions", body.dump());
  ASSERT_EQ(whole.status, 200);
  body["stream"] = true;
  auto stream = RawRequest(port(), "POST", "/v1/completions", body.dump());
  ASSERT_EQ(stream.status, 200);
  EXPECT_NE(stream.head.find("text/event-stream"), std::string::npos);
  std::vector<std::string> events = testing::SseDataOf(testing::DechunkBody(stream.body));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) text += json::parse(events[i])["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, json::parse(whole.body)["choices"][0]["text"].get<std::string>());
}

TEST_F(ServeTest, ConcurrentRequestsGetWhatEachGetsAlone) {
  std::vector<std::string> prompts = {"\"in", "The quick brown fox", "Hello", "{\"instruction\": \"", "Once upon"};
  std::vector<std::string> alone;
  for (const auto& p : prompts) alone.push_back(Complete(p, 20));
  std::vector<std::future<std::string>> together;
  for (const auto& p : prompts) together.push_back(std::async(std::launch::async, [&, p] { return Complete(p, 20); }));
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(together[i].get(), alone[i]) << prompts[i];
}

TEST_F(ServeTest, MetricsAreValidPrometheusText) {
  Complete("\"in", 3);
  auto r = RawRequest(port(), "GET", "/metrics", "");
  ASSERT_EQ(r.status, 200);
  for (const char* name : {"dte_requests_total", "dte_request_duration_seconds", "dte_time_to_first_token_seconds",
                           "dte_time_per_output_token_seconds", "dte_prompt_tokens_total", "dte_generated_tokens_total",
                           "dte_queue_depth", "dte_active_sequences", "dte_batch_size", "dte_sessions", "dte_state_bytes",
                           "process_cpu_seconds_total", "process_resident_memory_bytes"})
    EXPECT_NE(r.body.find(name), std::string::npos) << name;
  const std::string path = ::testing::TempDir() + "/dte_metrics.txt";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(r.body.data(), 1, r.body.size(), f);
  std::fclose(f);
  if (system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed (scripts/deps.sh installs it)";
  EXPECT_EQ(system(("promtool check metrics < " + path + " >/dev/null 2>&1").c_str()), 0)
      << "promtool check metrics failed on:\n" << r.body;
}

TEST(ServeDrainTest, SigtermFinishesInFlightWorkThenExitsZero) {
  ServerProcess server(kDemoModel, {"--drain-timeout", "20"});
  ASSERT_GT(server.port(), 0);
  json body = {{"model", "demo"}, {"prompt", "Once"}, {"max_tokens", 300}, {"temperature", 0}};
  auto in_flight = std::async(std::launch::async, [&] {
    return RawRequest(server.port(), "POST", "/v1/completions", body.dump());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server.Terminate(), 0);
  auto r = in_flight.get();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["usage"]["completion_tokens"], 300);
}

}  // namespace
}  // namespace dte
