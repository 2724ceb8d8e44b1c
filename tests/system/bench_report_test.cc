// System tests of `dte bench` beyond the basic closed loop, against real `dte serve` processes
// on the demo model: open-loop arrivals, built-in scenarios shortened by --time-scale, replay
// of both real traces, shared prefixes, --compare against two servers, the HTML report
// rendered in headless Chromium (charts drawn, no console messages), and the safety bounds.
// Reports must be consistent (counts add up, percentiles ordered, tokens match usage); speed
// is never asserted.

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "system/run_command.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::RunDte;
using testing::ServerProcess;
using testing::ShellQuote;
using testing::Slurp;

const std::string kDemoModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";
const std::string kTraces = std::string(DTE_SHARED_DIR) + "/traces/";

std::string UrlOf(int port) { return "http://127.0.0.1:" + std::to_string(port); }
std::string TempPath(const std::string& name) {
  return "/tmp/dte_bench_report_test." + std::to_string(getpid()) + "." + name;
}

// The invariants every report must satisfy.
void ExpectConsistent(const json& j) {
  const int64_t requests = j.at("requests").get<int64_t>();
  const int64_t successes = j.at("successes").get<int64_t>();
  const int64_t errors = j.at("errors").get<int64_t>();
  EXPECT_EQ(successes + errors, requests);
  int64_t by_kind = 0;
  for (const auto& [kind, n] : j.at("errors_by_kind").items()) by_kind += n.get<int64_t>();
  EXPECT_EQ(by_kind, errors);
  EXPECT_EQ(j.at("e2e_ms").at("count").get<int64_t>(), successes);
  EXPECT_EQ(j.at("send_lag_ms").at("count").get<int64_t>(), requests);
  for (const char* m : {"ttft_ms", "tpot_ms", "e2e_ms", "inter_chunk_ms", "send_lag_ms",
                        "output_tokens_per_request"}) {
    SCOPED_TRACE(m);
    const json& s = j.at(m);
    if (s.at("count").get<int64_t>() == 0) continue;
    EXPECT_LE(s.at("min").get<double>(), s.at("p50").get<double>());
    EXPECT_LE(s.at("p50").get<double>(), s.at("p90").get<double>());
    EXPECT_LE(s.at("p90").get<double>(), s.at("p95").get<double>());
    EXPECT_LE(s.at("p95").get<double>(), s.at("p99").get<double>());
    EXPECT_LE(s.at("p99").get<double>(), s.at("p99.9").get<double>());
    EXPECT_LE(s.at("p99.9").get<double>(), s.at("max").get<double>());
  }
  // Tokens: the total is the sum over requests of the usage counts.
  const json& per = j.at("output_tokens_per_request");
  EXPECT_NEAR(per.at("mean").get<double>() * static_cast<double>(per.at("count").get<int64_t>()),
              static_cast<double>(j.at("output_tokens").get<int64_t>()), 1.0);
  // The timeline adds up to the totals.
  const json& t = j.at("timeline");
  int64_t t_requests = 0, t_errors = 0;
  for (const json& n : t.at("requests")) t_requests += n.get<int64_t>();
  for (const json& n : t.at("errors")) t_errors += n.get<int64_t>();
  EXPECT_EQ(t_requests, requests);
  EXPECT_EQ(t_errors, errors);
  // The CDF rises.
  for (const char* m : {"ttft_ms", "e2e_ms"}) {
    const json& pts = j.at("cdf").at(m);
    for (size_t i = 1; i < pts.size(); ++i) {
      EXPECT_LE(pts[i - 1][0].get<double>(), pts[i][0].get<double>()) << m;
      EXPECT_LE(pts[i - 1][1].get<double>(), pts[i][1].get<double>()) << m;
    }
  }
  EXPECT_TRUE(j.at("grade").at("letter").is_string());
}

// Renders `html` in headless Chromium; returns the DOM after the scripts ran, and the
// browser's stderr (where console messages are logged) in `log`.
std::string RenderInChromium(const std::string& html, std::string& log) {
  const std::string dom = TempPath("dom"), err = TempPath("chromium.err");
  const std::string profile = TempPath("profile");
  const std::string cmd = "timeout 120 chromium --headless=new --no-sandbox --disable-gpu "
                          "--no-first-run --user-data-dir=" + ShellQuote(profile) +
                          " --enable-logging=stderr --v=0 --virtual-time-budget=5000"
                          " --dump-dom " + ShellQuote("file://" + html) + " >" + dom + " 2>" +
                          err;
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(status, 0) << Slurp(err);
  std::string out = Slurp(dom);
  log = Slurp(err);
  std::remove(dom.c_str());
  std::remove(err.c_str());
  std::system(("rm -rf " + ShellQuote(profile)).c_str());
  return out;
}

class BenchReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    a_ = new ServerProcess(kDemoModel, {"--max-batch", "64"});
    b_ = new ServerProcess(kDemoModel, {"--max-batch", "64"});
  }
  static void TearDownTestSuite() {
    delete a_;
    delete b_;
    a_ = b_ = nullptr;
  }
  static ServerProcess* a_;
  static ServerProcess* b_;
};
ServerProcess* BenchReportTest::a_ = nullptr;
ServerProcess* BenchReportTest::b_ = nullptr;

TEST_F(BenchReportTest, OpenLoopPoissonRunIsConsistentAndTokensMatchUsage) {
  ASSERT_GT(a_->port(), 0);
  auto r = RunDte({"bench", "--url", UrlOf(a_->port()), "--rate", "40", "--arrival", "poisson",
                   "--duration", "2", "--prompt-words", "10", "--max-tokens", "12", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ExpectConsistent(j);
  EXPECT_EQ(j.at("config").at("mode"), "open");
  EXPECT_EQ(j.at("ended_by"), "schedule");
  EXPECT_EQ(j.at("config").at("scenario").at("arrival"), "poisson");
  EXPECT_EQ(j.at("errors").get<int64_t>(), 0) << j.at("errors_by_kind").dump();
  const int64_t requests = j.at("requests").get<int64_t>();
  EXPECT_GT(requests, 20);  // ~80 expected; Poisson noise is far smaller than this margin
  EXPECT_LT(requests, 160);
  // ignore_eos: each request generates exactly max_tokens, as the server's usage says.
  EXPECT_EQ(j.at("output_tokens").get<int64_t>(), 12 * requests);
  EXPECT_EQ(j.at("output_tokens_per_request").at("min").get<double>(), 12);
  EXPECT_EQ(j.at("ttft_ms").at("count").get<int64_t>(), requests);
}

TEST_F(BenchReportTest, BuiltinScenarioShortenedByTimeScale) {
  // light: 10 users, 60 s with a 10 s ramp and 2 s think time; scaled to 3 s.
  auto r = RunDte({"bench", "--url", UrlOf(a_->port()), "--scenario", "light", "--time-scale",
                   "0.05", "--max-tokens", "4", "--prompt-words", "5", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ExpectConsistent(j);
  const json& s = j.at("config").at("scenario");
  EXPECT_EQ(s.at("name"), "light");
  EXPECT_DOUBLE_EQ(s.at("duration_s").get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(s.at("think_s").get<double>(), 2.0);
  // 10 users, each sends at once and then every ~2 s: 10..20 requests in 3 s.
  EXPECT_GE(j.at("requests").get<int64_t>(), 10);
  EXPECT_LE(j.at("requests").get<int64_t>(), 20);
  EXPECT_LT(j.at("duration_s").get<double>(), 3.0 + 10.0);
}

TEST_F(BenchReportTest, ReplaysTheAzureAndMooncakeTraces) {
  // Azure: 30 requests, 100x faster, lengths / 50.
  auto azure = RunDte({"bench", "--url", UrlOf(a_->port()), "--trace",
                       kTraces + "AzureLLMInferenceTrace_conv.csv", "--trace-lines", "30",
                       "--trace-time-scale", "0.01", "--trace-length-scale", "0.02", "-q"});
  ASSERT_EQ(azure.exit_code, 0) << azure.err;
  json a = json::parse(azure.out);
  ExpectConsistent(a);
  EXPECT_EQ(a.at("config").at("mode"), "trace");
  EXPECT_EQ(a.at("requests").get<int64_t>(), 30);
  EXPECT_EQ(a.at("ended_by"), "schedule");
  EXPECT_EQ(a.at("errors").get<int64_t>(), 0) << a.at("errors_by_kind").dump();
  // Output lengths follow the trace: the first request asked 44 tokens → 1 after scaling.
  EXPECT_GE(a.at("output_tokens_per_request").at("min").get<double>(), 1);
  // Mooncake: 20 requests with shared prefixes (hash ids), lengths / 400.
  auto mooncake = RunDte({"bench", "--url", UrlOf(a_->port()), "--trace",
                          kTraces + "mooncake_synthetic_trace.jsonl", "--trace-lines", "20",
                          "--trace-time-scale", "0.1", "--trace-length-scale", "0.0025", "-q"});
  ASSERT_EQ(mooncake.exit_code, 0) << mooncake.err;
  json m = json::parse(mooncake.out);
  ExpectConsistent(m);
  EXPECT_EQ(m.at("requests").get<int64_t>(), 20);
  EXPECT_EQ(m.at("errors").get<int64_t>(), 0) << m.at("errors_by_kind").dump();
}

TEST_F(BenchReportTest, SharedPrefixChatWorkload) {
  auto r = RunDte({"bench", "--url", UrlOf(a_->port()), "--chat", "--no-stream", "--users", "3",
                   "--requests", "12", "--duration", "30", "--prefixes", "2", "--prefix-words",
                   "30", "--prompt-words", "5", "--max-tokens", "4", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ExpectConsistent(j);
  EXPECT_EQ(j.at("requests").get<int64_t>(), 12);
  EXPECT_EQ(j.at("ended_by"), "request_limit");
  EXPECT_EQ(j.at("errors").get<int64_t>(), 0) << j.at("errors_by_kind").dump();
  EXPECT_EQ(j.at("config").at("shared_prefixes"), 2);
  EXPECT_EQ(j.at("output_tokens").get<int64_t>(), 4 * 12);
}

TEST_F(BenchReportTest, CompareRunsBothTargetsAndReportsRatios) {
  ASSERT_GT(b_->port(), 0);
  const std::string html = TempPath("compare.html");
  auto r = RunDte({"bench", "--url", UrlOf(a_->port()), "--compare", UrlOf(b_->port()),
                   "--users", "2", "--duration", "1.5", "--max-tokens", "8", "--prompt-words",
                   "10", "--html", html});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_TRUE(j.at("compare").get<bool>());
  ASSERT_EQ(j.at("runs").size(), 2u);
  ExpectConsistent(j["runs"][0]);
  ExpectConsistent(j["runs"][1]);
  EXPECT_NE(j["runs"][0]["config"]["url"], j["runs"][1]["config"]["url"]);
  const json& ratios = j.at("ratios");
  const double rps_a = j["runs"][0]["requests_per_s"].get<double>();
  const double rps_b = j["runs"][1]["requests_per_s"].get<double>();
  ASSERT_GT(rps_a, 0);
  EXPECT_NEAR(ratios.at("requests_per_s").get<double>(), rps_b / rps_a, 1e-3);
  for (const char* k : {"output_tokens_per_s", "ttft_p50", "ttft_p99", "tpot_p50", "tpot_p99"})
    EXPECT_TRUE(ratios.at(k).is_number()) << k;
  // Progress lines of both runs, and the table with a B/A column.
  EXPECT_NE(r.err.find("A ["), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("B ["), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("B/A"), std::string::npos) << r.err;
  // The HTML report overlays both runs.
  if (std::system("command -v chromium >/dev/null 2>&1") == 0) {
    std::string log;
    const std::string dom = RenderInChromium(html, log);
    EXPECT_NE(dom.find("data-rendered=\"ok\""), std::string::npos) << log;
    EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << log;
    EXPECT_NE(dom.find(">A TTFT p99<"), std::string::npos);
    EXPECT_NE(dom.find(">B TTFT p99<"), std::string::npos);
    EXPECT_NE(dom.find("<th>B/A</th>"), std::string::npos);
  }
  std::remove(html.c_str());
}

TEST_F(BenchReportTest, HtmlReportRendersItsChartsInHeadlessChromium) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) GTEST_SKIP() << "no chromium";
  const std::string html = TempPath("report.html");
  auto r = RunDte({"bench", "--url", UrlOf(a_->port()), "--users", "3", "--duration", "1.5",
                   "--max-tokens", "8", "--prompt-words", "10", "--slo", "ttft=5s,tpot=1s",
                   "--html", html, "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = Slurp(html);
  // Self-contained: no external scripts, styles or images.
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("href=\"http"), std::string::npos);
  std::string log;
  const std::string dom = RenderInChromium(html, log);
  std::remove(html.c_str());
  EXPECT_NE(dom.find("data-rendered=\"ok\""), std::string::npos) << log;
  EXPECT_NE(dom.find("<pre id=\"js-errors\"></pre>"), std::string::npos);
  EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << log;  // no console output at all
  // Each chart got drawn elements: lines in the line charts, the grade badge is there.
  for (const char* chart : {"chart-latency", "chart-cdf", "chart-throughput", "chart-tokens"}) {
    SCOPED_TRACE(chart);
    const std::regex svg(std::string("<svg id=\"") + chart + "\"[^>]*>([\\s\\S]*?)</svg>");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(dom, m, svg));
    EXPECT_NE(m[1].str().find("<path d=\"M"), std::string::npos);
  }
  EXPECT_NE(dom.find("chart-errors"), std::string::npos);
  EXPECT_NE(dom.find("class=\"grade gA\""), std::string::npos);  // generous SLOs: A
}

TEST(BenchReportSafetyTest, BoundsAndLoopback) {
  // --compare obeys the loopback rule too.
  auto remote = RunDte({"bench", "--url", "http://127.0.0.1:1", "--compare",
                        "http://203.0.113.9:8080", "--duration", "1"});
  EXPECT_NE(remote.exit_code, 0);
  EXPECT_NE(remote.err.find("--allow-remote"), std::string::npos) << remote.err;
  // Unbounded runs are refused with a clear message.
  auto long_run = RunDte({"bench", "--url", "http://127.0.0.1:1", "--duration", "1e9"});
  EXPECT_NE(long_run.exit_code, 0);
  EXPECT_NE(long_run.err.find("--duration"), std::string::npos) << long_run.err;
  auto many = RunDte({"bench", "--url", "http://127.0.0.1:1", "--max-requests", "1e12"});
  EXPECT_NE(many.exit_code, 0);
  // A custom scenario longer than the 24 h bound needs --time-scale or --duration.
  const std::string path = TempPath("long.json");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(R"({"stages":[{"duration_s":200000,"users":1}]})", f);
    std::fclose(f);
  }
  auto scenario = RunDte({"bench", "--url", "http://127.0.0.1:1", "--scenario", path});
  std::remove(path.c_str());
  EXPECT_NE(scenario.exit_code, 0);
  EXPECT_NE(scenario.err.find("24 h"), std::string::npos) << scenario.err;
  auto unknown = RunDte({"bench", "--url", "http://127.0.0.1:1", "--scenario", "tsunami"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("light"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace dte
