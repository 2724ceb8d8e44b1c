// The model-tool subcommands of the built `dte` binary: inspect, convert, model random.
// Skipped when the binary has not been built (model_tests does not depend on it).

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "gguf_test_util.h"
#include "model/model_file.h"

namespace dte {
namespace {

using testing::TempDir;
using testing::TinyPath;

struct RunResult {
  int rc = -1;
  std::string out;
};

// Runs `dte <args>` with stdout captured (stderr to `err_file` when given).
RunResult Dte(const std::string& args, const std::string& err_file = "/dev/null") {
  RunResult r;
  const std::string cmd = std::string(DTE_BINARY) + " " + args + " 2>" + err_file;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class ConvertCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(DTE_BINARY)) GTEST_SKIP() << "dte is not built at " << DTE_BINARY;
  }
  TempDir dir_;
};

TEST_F(ConvertCliTest, InspectDescribesEveryFormat) {
  RunResult r = Dte("inspect " + TinyPath("6v0-1m", "Q5_1"));
  ASSERT_EQ(r.rc, 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "rwkv.cpp");
  EXPECT_EQ(j["arch"], "rwkv6");
  EXPECT_EQ(j["version"], "6");
  EXPECT_EQ(j["n_vocab"], 256);
  EXPECT_EQ(j["n_embd"], 64);
  EXPECT_EQ(j["n_layer"], 12);
  EXPECT_EQ(j["head_size"], 8);
  EXPECT_GT(j["tensor_types"]["q5_1"].get<int>(), 0);
  EXPECT_GT(j["bytes"].get<int64_t>(), 0);
  EXPECT_EQ(j["layer_norm_eps"], 1e-5);

  const std::string gguf = dir_.File("m.gguf");
  ASSERT_EQ(Dte("convert " + TinyPath("7v0-834K", "FP32") + " " + gguf + " --type f16").rc, 0);
  r = Dte("inspect --tensors " + gguf);
  ASSERT_EQ(r.rc, 0);
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "gguf");
  EXPECT_EQ(j["arch"], "rwkv7");
  EXPECT_EQ(j["vocab_size"], 256);
  EXPECT_EQ(j["gguf"]["metadata"]["general.architecture"], "rwkv7");
  EXPECT_EQ(j["gguf"]["metadata"]["tokenizer.ggml.tokens"]["count"], 256);
  EXPECT_EQ(j["gguf"]["alignment"], 32);
  EXPECT_EQ(j["tensors"].size(), j["tensor_count"].get<size_t>());

  // Not a model: an error in JSON and on stderr, exit 1.
  const std::string junk = dir_.File("junk.gguf");
  testing::WriteBytes(junk, {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
  r = Dte("inspect " + junk);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(nlohmann::json::parse(r.out)["error"].get<std::string>().find("junk.gguf"),
            std::string::npos);
}

TEST_F(ConvertCliTest, ConvertRoundTripsAndReports) {
  const std::string gguf = dir_.File("m.gguf"), bin = dir_.File("back.bin"),
                    err = dir_.File("err.txt");
  ASSERT_EQ(Dte("convert " + TinyPath("6v0-1m", "FP16") + " " + gguf, err).rc, 0);
  const std::vector<uint8_t> err_bytes = testing::ReadBytes(err);
  const std::string summary(err_bytes.begin(), err_bytes.end());
  EXPECT_NE(summary.find("tensor "), std::string::npos) << summary;  // progress
  EXPECT_NE(summary.find("to   " + gguf + " (gguf"), std::string::npos) << summary;
  ASSERT_EQ(Dte("convert " + gguf + " " + bin).rc, 0);
  Result<ModelFile> a = ReadModelFile(TinyPath("6v0-1m", "FP16"));
  Result<ModelFile> b = ReadModelFile(bin);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(testing::SameTensors(a->tensors, b->tensors));

  EXPECT_EQ(Dte("convert " + TinyPath("4v0-660K", "FP32") + " " + dir_.File("x.gguf")).rc, 1);
  EXPECT_EQ(Dte("convert " + TinyPath("7v0-834K", "FP32") + " " + dir_.File("x.txt")).rc, 1);
  EXPECT_EQ(
      Dte("convert " + TinyPath("7v0-834K", "FP32") + " " + dir_.File("x.gguf") + " --type q3").rc,
      1);
  EXPECT_EQ(Dte("convert " + dir_.File("missing.bin") + " " + dir_.File("x.gguf")).rc, 1);
}

TEST_F(ConvertCliTest, ModelRandomWritesLoadableModels) {
  const std::string a = dir_.File("a.gguf"), b = dir_.File("b.gguf");
  ASSERT_EQ(
      Dte("model random --arch rwkv7 --layers 2 --embd 128 --vocab 256 --seed 5 --out " + a).rc, 0);
  ASSERT_EQ(
      Dte("model random --arch rwkv7 --layers 2 --embd 128 --vocab 256 --seed 5 --out " + b).rc, 0);
  EXPECT_EQ(testing::ReadBytes(a), testing::ReadBytes(b));
  Result<ModelFile> m = ReadModelFile(a);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->config.n_layer, 2);
  EXPECT_EQ(m->config.n_embd, 128);
  EXPECT_EQ(m->config.ffn_dim, 512);
  EXPECT_EQ(m->tensors.Find("blocks.1.att.key.weight")->type, DType::kF16);

  // The World vocabulary (65536) is stored in the file.
  const std::string w = dir_.File("w.gguf");
  const std::string vocab = std::string(DTE_SHARED_DIR) + "/tokenizers/rwkv_vocab_v20230424.txt";
  ASSERT_EQ(
      Dte("model random --layers 1 --embd 64 --type q8_0 --vocab-file " + vocab + " --out " + w).rc,
      0);
  m = ReadModelFile(w);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(m->vocab.has_value());
  EXPECT_EQ(m->vocab->size(), 65536u);
  EXPECT_EQ((*m->vocab)[261], "\n\n");
  EXPECT_EQ((*m->vocab)[0], "");
  EXPECT_EQ(m->tensors.Find("blocks.0.att.key.weight")->type, DType::kQ8_0);

  EXPECT_EQ(Dte("model random --layers 2 --embd 100 --out " + dir_.File("bad.gguf")).rc, 1);
  EXPECT_EQ(
      Dte("model random --arch rwkv5 --layers 2 --embd 128 --out " + dir_.File("bad.gguf")).rc, 1);
  EXPECT_NE(Dte("model random --layers 2 --out " + dir_.File("bad.gguf")).rc,
            0);  // --embd required
}

}  // namespace
}  // namespace dte
