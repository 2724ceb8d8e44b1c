// `dte autoscale simulate` as a user runs it: the built binary on a small trace file, table and
// --json. Skipped when the dte binary has not been built yet (build the `dte` target first).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Output {
  int status = -1;
  std::string text;
};

Output RunDte(const std::string& args) {
  Output out;
  FILE* p = ::popen((std::string(DTE_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.text.append(buf, n);
  const int raw = ::pclose(p);
  out.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

class SimulateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(DTE_BINARY)) GTEST_SKIP() << "build the dte target first";
    trace_ = ::testing::TempDir() + "/dte_sim_trace_" + std::to_string(::getpid()) + ".csv";
    std::ofstream f(trace_);
    f << "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    // 2 req/s for 5 minutes, then 8 req/s for 5 minutes.
    double t = 0;
    int i = 0;
    while (t < 600) {
      const int s = static_cast<int>(t);
      char stamp[64];
      std::snprintf(stamp, sizeof stamp, "2024-01-01 10:%02d:%02d.%07d", s / 60, s % 60,
                    static_cast<int>((t - s) * 1e7));
      f << stamp << "," << 200 + (i % 7) * 50 << "," << 50 + (i % 5) * 20 << "\n";
      t += t < 300 ? 0.5 : 0.125;
      ++i;
    }
  }
  void TearDown() override {
    if (!trace_.empty()) std::remove(trace_.c_str());
  }
  std::string trace_;
};

TEST_F(SimulateCliTest, TableForBothPolicies) {
  Output o = RunDte("autoscale simulate --trace " + trace_ + " --capacity-rps 1 --startup 20");
  ASSERT_EQ(o.status, 0) << o.text;
  EXPECT_NE(o.text.find("| hpa |"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("| predictive |"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("replica-seconds"), std::string::npos);
}

TEST_F(SimulateCliTest, Json) {
  Output o = RunDte("autoscale simulate --trace " + trace_ +
                    " --policy predictive --capacity-rps 1 --json --events 5");
  ASSERT_EQ(o.status, 0) << o.text;
  nlohmann::json j = nlohmann::json::parse(o.text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << o.text;
  ASSERT_EQ(j["results"].size(), 1u);
  const nlohmann::json& r = j["results"][0];
  EXPECT_EQ(r["policy"], "predictive");
  EXPECT_EQ(r["requests"], j["requests"]);
  EXPECT_GT(r["replica_seconds"].get<double>(), 0);
  EXPECT_GE(r["slo_attainment"].get<double>(), 0);
  EXPECT_LE(r["slo_attainment"].get<double>(), 1);
  EXPECT_NEAR(j["capacity"]["replica_capacity_rps"].get<double>(), 1.0, 1e-6);
  EXPECT_GE(r["scale_ups"].get<int>(), 1);  // the step to 8 req/s needs more replicas
  EXPECT_LE(r["events"].size(), 5u);
}

TEST_F(SimulateCliTest, BadInputsFail) {
  EXPECT_NE(RunDte("autoscale simulate --trace /nonexistent.csv").status, 0);
  EXPECT_NE(RunDte("autoscale simulate --trace " + trace_ + " --policy magic").status, 0);
  EXPECT_NE(RunDte("autoscale nothing").status, 0);
}

}  // namespace
