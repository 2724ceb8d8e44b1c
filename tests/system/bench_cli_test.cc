// System tests of `dte bench` against the real `dte serve` on the demo model: the JSON report
// of a short closed-loop run is consistent, sessions report TTFT per turn, and every run is
// bounded and refuses remote targets by default. Speed is never asserted here.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "system/run_command.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::RunDte;
using testing::ServerProcess;

const std::string kDemoModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

std::string UrlOf(int port) { return "http://127.0.0.1:" + std::to_string(port); }

void ExpectOrdered(const json& m, const char* name) {
  SCOPED_TRACE(name);
  EXPECT_LE(m.at("min").get<double>(), m.at("p50").get<double>());
  EXPECT_LE(m.at("p50").get<double>(), m.at("p90").get<double>());
  EXPECT_LE(m.at("p90").get<double>(), m.at("p95").get<double>());
  EXPECT_LE(m.at("p95").get<double>(), m.at("p99").get<double>());
  EXPECT_LE(m.at("p99").get<double>(), m.at("p99.9").get<double>());
  EXPECT_LE(m.at("p99.9").get<double>(), m.at("max").get<double>());
}

class BenchCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess(kDemoModel, {"--max-batch", "64"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static ServerProcess* server_;
};
ServerProcess* BenchCliTest::server_ = nullptr;

TEST_F(BenchCliTest, StreamedCompletionsReportIsConsistent) {
  ASSERT_GT(server_->port(), 0);
  const std::string out = "/tmp/dte_bench_test." + std::to_string(getpid()) + ".json";
  auto r = RunDte({"bench", "--url", UrlOf(server_->port()), "--users", "4", "--duration", "2",
                   "--prompt-words", "20", "--max-tokens", "16", "--slo", "ttft=10s,tpot=1s",
                   "--json", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("p99 TTFT"), std::string::npos) << r.err;  // the progress line
  json j = json::parse(testing::Slurp(out));
  std::remove(out.c_str());
  EXPECT_EQ(j.at("config").at("model"), "demo");  // found through GET /v1/models
  EXPECT_EQ(j.at("config").at("users"), 4);
  const int64_t requests = j.at("requests").get<int64_t>();
  EXPECT_GT(requests, 0);
  EXPECT_EQ(j.at("errors").get<int64_t>(), 0) << j.at("errors_by_kind").dump();
  EXPECT_EQ(j.at("successes").get<int64_t>(), requests);
  EXPECT_GT(j.at("output_tokens_per_s").get<double>(), 0);
  EXPECT_GT(j.at("requests_per_s").get<double>(), 0);
  const double duration = j.at("duration_s").get<double>();
  EXPECT_GT(duration, 0);
  EXPECT_LT(duration, 2.0 + 30.0);  // bounded: the deadline, then in-flight requests finish
  EXPECT_EQ(j.at("ttft_ms").at("count").get<int64_t>(), requests);
  EXPECT_EQ(j.at("e2e_ms").at("count").get<int64_t>(), requests);
  for (const char* m :
       {"ttft_ms", "tpot_ms", "e2e_ms", "inter_chunk_ms", "output_tokens_per_request"})
    ExpectOrdered(j.at(m), m);
  EXPECT_LE(j.at("ttft_ms").at("p50").get<double>(), j.at("e2e_ms").at("max").get<double>());
  EXPECT_GT(j.at("output_tokens").get<int64_t>(), 0);
  EXPECT_LE(j.at("output_tokens_per_request").at("max").get<double>(), 16);
  EXPECT_EQ(j.at("goodput").at("good_requests").get<int64_t>(), requests);  // generous SLOs
}

TEST_F(BenchCliTest, SessionRunReportsTtftPerTurn) {
  auto r = RunDte({"bench", "--url", UrlOf(server_->port()), "--users", "2", "--duration", "2",
                   "--session-turns", "3", "--prompt-words", "10", "--max-tokens", "8", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j.at("errors").get<int64_t>(), 0) << j.at("errors_by_kind").dump();
  EXPECT_EQ(j.at("config").at("api"), "chat");
  const json& turns = j.at("ttft_ms_by_turn");
  ASSERT_GE(turns.size(), 1u);
  EXPECT_EQ(turns[0].at("turn"), 1);
  int64_t counted = 0;
  for (const json& t : turns) counted += t.at("count").get<int64_t>();
  EXPECT_EQ(counted, j.at("ttft_ms").at("count").get<int64_t>());
}

TEST_F(BenchCliTest, NonStreamedRequestsCountUsageTokens) {
  auto r = RunDte({"bench", "--url", UrlOf(server_->port()), "--users", "2", "--requests", "6",
                   "--duration", "20", "--no-stream", "--max-tokens", "5", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j.at("requests").get<int64_t>(), 6);  // --requests bounds the run
  EXPECT_EQ(j.at("errors").get<int64_t>(), 0) << j.at("errors_by_kind").dump();
  EXPECT_EQ(j.at("ttft_ms").at("count").get<int64_t>(), 0);
  EXPECT_GT(j.at("output_tokens").get<int64_t>(), 0);
}

TEST(BenchCliSafetyTest, RefusesRemoteTargetsWithoutAllowRemote) {
  auto r = RunDte({"bench", "--url", "http://192.0.2.1:8080", "--duration", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--allow-remote"), std::string::npos) << r.err;
}

TEST(BenchCliSafetyTest, UnreachableServerGivesConnectErrorsAndStops) {
  // Port 1 on loopback: nothing listens. --model skips GET /v1/models.
  auto r = RunDte({"bench", "--url", "http://127.0.0.1:1", "--model", "m", "--users", "3",
                   "--requests", "30", "--duration", "30", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j.at("requests").get<int64_t>(), 30);
  EXPECT_EQ(j.at("errors_by_kind").at("connect").get<int64_t>(), 30);
}

}  // namespace
}  // namespace dte
