// System tests of `dte perf`: the command runs and reports well-formed numbers. Correctness
// only; speed is never asserted here (docs/performance.md holds the measurements).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "golden/golden_test_util.h"
#include "system/run_command.h"

namespace dte {
namespace {

using testing::RunDte;
using testing::TinyModel;

TEST(PerfCliTest, JsonHasPositiveSpeedsAndPeakRss) {
  auto r = RunDte({"perf", "--model", TinyModel("7v0-834K", "FP32"), "--prompt-tokens", "16",
                   "--gen-tokens", "4", "--threads", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);  // stdout holds only the JSON
  EXPECT_GT(j.at("prefill_tok_s").get<double>(), 0);
  EXPECT_GT(j.at("decode_tok_s").get<double>(), 0);
  EXPECT_GT(j.at("peak_rss_bytes").get<int64_t>(), 0);
  EXPECT_EQ(j.at("prompt_tokens").get<int>(), 16);
  EXPECT_EQ(j.at("gen_tokens").get<int>(), 4);
  EXPECT_EQ(j.at("threads").get<int>(), 1);
  EXPECT_EQ(j.at("runs").size(), 3u);  // --repeat defaults to 3
  EXPECT_GT(j.at("weight_bytes").get<int64_t>(), 0);
  EXPECT_LE(j.at("weight_bytes_per_token").get<int64_t>(), j.at("weight_bytes").get<int64_t>());
  EXPECT_NE(r.err.find("median prefill"), std::string::npos) << r.err;
}

TEST(PerfCliTest, BatchReportsOneEntryPerBatchSize) {
  auto r = RunDte({"perf", "--model", TinyModel("7v0-834K", "FP32"), "--prompt-tokens", "4",
                   "--gen-tokens", "3", "--threads", "1", "--repeat", "2", "--batch", "1,3,8",
                   "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  const auto& batches = j.at("batch_decode");
  ASSERT_EQ(batches.size(), 3u);
  const int expected[] = {1, 3, 8};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(batches[i].at("batch").get<int>(), expected[i]);
    EXPECT_GT(batches[i].at("decode_tok_s").get<double>(), 0);
    EXPECT_EQ(batches[i].at("runs_s").size(), 2u);
    EXPECT_NEAR(batches[i].at("per_sequence_tok_s").get<double>() * expected[i],
                batches[i].at("decode_tok_s").get<double>(),
                1e-6 * batches[i].at("decode_tok_s").get<double>());
  }
}

TEST(PerfCliTest, BatchDecodeTokSMapsEachSizeToItsRate) {
  auto r = RunDte({"perf", "--model", TinyModel("7v0-834K", "FP32"), "--prompt-tokens", "4",
                   "--gen-tokens", "2", "--threads", "1", "--repeat", "1", "--batch", "2,4",
                   "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  const auto& by_size = j.at("batch_decode_tok_s");
  ASSERT_EQ(by_size.size(), 2u);
  EXPECT_EQ(by_size.at("2").get<double>(), j.at("batch_decode")[0].at("decode_tok_s").get<double>());
  EXPECT_EQ(by_size.at("4").get<double>(), j.at("batch_decode")[1].at("decode_tok_s").get<double>());
}

TEST(PerfCliTest, RooflineAloneReportsTheMachineLimits) {
  auto r = RunDte({"perf", "--roofline", "--threads", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out).at("roofline");
  EXPECT_GT(j.at("triad_gb_s").get<double>(), 0);
  EXPECT_GT(j.at("read_gb_s").get<double>(), 0);
  EXPECT_GT(j.at("fp32_fma_gflops").get<double>(), 0);
  EXPECT_EQ(j.at("threads").get<int>(), 1);
  EXPECT_TRUE(j.at("amx").is_string());
}

TEST(PerfCliTest, RooflineWithModelAddsSharesOfIt) {
  auto r = RunDte({"perf", "--roofline", "--model", TinyModel("7v0-834K", "FP32"),
                   "--prompt-tokens", "4", "--gen-tokens", "2", "--threads", "1", "--repeat", "1",
                   "--batch", "4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_GT(j.at("decode_bandwidth_share").get<double>(), 0);
  EXPECT_GT(j.at("batch_decode")[0].at("compute_share").get<double>(), 0);
  EXPECT_GT(j.at("weights_per_token").get<int64_t>(), 0);
}

TEST(PerfCliTest, WithoutModelOrRooflineIsAUsageError) {
  auto r = RunDte({"perf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model is required"), std::string::npos) << r.err;
}

TEST(PerfCliTest, RejectsBatchZero) {
  auto r = RunDte({"perf", "--model", TinyModel("7v0-834K", "FP32"), "--batch", "1,0"});
  EXPECT_NE(r.exit_code, 0);
}

TEST(PerfCliTest, TableOnStdoutWithoutJson) {
  auto r = RunDte({"perf", "--model", TinyModel("7v0-834K", "FP32"), "--prompt-tokens", "8",
                   "--gen-tokens", "2", "--threads", "1", "--repeat", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| pp8 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tg2 |"), std::string::npos) << r.out;
}

TEST(PerfCliTest, MissingModelFailsWithMessage) {
  auto r = RunDte({"perf", "--model", "/nonexistent/model.gguf", "--json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("dte perf"), std::string::npos) << r.err;
}

TEST(PerfCliTest, RejectsZeroTokens) {
  auto r = RunDte({"perf", "--model", TinyModel("7v0-834K", "FP32"), "--gen-tokens", "0"});
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace dte
