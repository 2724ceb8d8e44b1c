// System tests of the model-tool subcommands: run the built `dte` binary as a user would.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "golden/golden_test_util.h"
#include "system/run_command.h"

namespace dte {
namespace {

using testing::RunDte;
using testing::TinyModel;

const std::string kDemoModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";
const std::string kWorldVocab = std::string(DTE_SOURCE_DIR) + "/models/rwkv_vocab_v20230424.txt";

TEST(CliTest, GenerateGreedyContinuesLikeTheReference) {
  auto r = RunDte({"generate", "--model", TinyModel("5v2-730K", "FP32"), "--prompt", "\"in",
                   "--max-tokens", "10", "--temperature", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "put\": \"\",\n\n");  // 10 tokens, then the trailing newline
  EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(prefill: 3 tokens in [0-9.]+ s \([0-9.]+ tok/s\); decode: 10 tokens)")))
      << r.err;
}

TEST(CliTest, GenerateWithSeedIsReproducible) {
  auto a = RunDte({"generate", "--model", kDemoModel, "--prompt", "Once upon a time", "--max-tokens", "40",
                   "--seed", "42"});
  auto b = RunDte({"generate", "--model", kDemoModel, "--prompt", "Once upon a time", "--max-tokens", "40",
                   "--seed", "42"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_GT(a.out.size(), 1u);
}

TEST(CliTest, EvalPrintsReferenceLogits) {
  for (std::string mode : {"serial", "sequence"}) {
    auto r = RunDte({"eval", "--model", TinyModel("7v0-834K", "FP32"), "--tokens", "34,105,110", "--mode", mode});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto json = nlohmann::json::parse(r.out);
    std::vector<float> logits = json.at("logits").get<std::vector<float>>();
    EXPECT_LE(testing::MaxAbsDiff(logits, testing::ExpectedLogits("7v0-834K")), 1e-4f) << mode;
  }
}

TEST(CliTest, TokenizeRoundTripsWithWorldVocab) {
  const std::string text = "Hello, world! 你好，世界 🌍";
  auto enc = RunDte({"tokenize", "--vocab", kWorldVocab, "--text", text});
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  auto ids = nlohmann::json::parse(enc.out).get<std::vector<int>>();
  ASSERT_FALSE(ids.empty());
  std::string list;
  for (int id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
  auto dec = RunDte({"tokenize", "--vocab", kWorldVocab, "--decode", list});
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  EXPECT_EQ(dec.out, text);
}

TEST(CliTest, TokenizeWithByteModelGivesBytes) {
  auto r = RunDte({"tokenize", "--model", kDemoModel, "--text", "\"in"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[34,105,110]\n");
}

TEST(CliTest, MissingModelFileIsAClearError) {
  auto r = RunDte({"eval", "--model", "/nonexistent/model.bin", "--tokens", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.bin"), std::string::npos) << r.err;
}

TEST(CliTest, TruncatedModelNamesTheTensorAndOffset) {
  const std::string path = ::testing::TempDir() + "/truncated.bin";
  {
    std::ifstream in(TinyModel("7v0-834K", "FP32"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(path, std::ios::binary).write(bytes.data(), 100000);
  }
  auto r = RunDte({"eval", "--model", path, "--tokens", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated at offset"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tensor"), std::string::npos) << r.err;
  std::filesystem::remove(path);
}

TEST(CliTest, NotAModelFileIsRefused) {
  auto r = RunDte({"eval", "--model", kWorldVocab, "--tokens", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a model file"), std::string::npos) << r.err;
}

TEST(CliTest, BadTokenListsAreRejected) {
  for (std::string tokens : {"1,x", "", "1,,2", "300", "-1"}) {
    auto r = RunDte({"eval", "--model", kDemoModel, "--tokens", tokens});
    EXPECT_NE(r.exit_code, 0) << tokens;
    EXPECT_EQ(r.out, "") << tokens;
  }
}

TEST(CliTest, EmptyPromptIsAnErrorNotACrash) {
  auto r = RunDte({"generate", "--model", kDemoModel, "--prompt", ""});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
}

TEST(CliTest, UnknownCommandPrintsUsage) {
  auto r = RunDte({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: dte"), std::string::npos);
}

}  // namespace
}  // namespace dte
