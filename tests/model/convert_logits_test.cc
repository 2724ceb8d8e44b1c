// Converted files compute what the originals compute: GGUF and safetensors copies of the tiny
// models give the .bin's logits (identical: the same canonical tensors), which match the
// reference logits; random models run and stay finite.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "gguf_test_util.h"
#include "model/model.h"
#include "model/model_writer.h"
#include "model/random_model.h"

namespace dte {
namespace {

using testing::TempDir;
using testing::TinyPath;

std::vector<float> Logits(const std::string& path, const std::vector<int32_t>& tokens) {
  Result<std::shared_ptr<const Model>> model = Model::Load(path);
  EXPECT_TRUE(model.ok()) << path << ": " << model.status().ToString();
  if (!model.ok()) return {};
  State state = (*model)->NewState();
  Scratch scratch;
  std::vector<float> logits(static_cast<size_t>((*model)->config().n_vocab));
  (*model)->ForwardSerial(tokens, state, logits.data(), scratch, nullptr);
  return logits;
}

std::vector<float> Expected(const std::string& stem) {
  std::vector<float> v(256);
  std::ifstream f(std::string(DTE_SHARED_DIR) + "/models/tiny/expected-logits-" + stem + ".bin",
                  std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), 1024);
  return v;
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(ConvertLogitsTest, GgufGivesTheBinsLogits) {
  TempDir dir;
  const std::vector<int32_t> prompt = {34, 105, 110};
  for (const std::string stem : {"7v0-834K", "6v0-1m"}) {
    for (const std::string type : {"FP32", "FP16", "Q5_1"}) {
      SCOPED_TRACE(stem + " " + type);
      const std::string bin = TinyPath(stem, type);
      Result<ModelFile> file = ReadModelFile(bin);
      ASSERT_TRUE(file.ok());
      const std::string gguf = dir.File("m.gguf");
      ASSERT_TRUE(WriteGgufModel(*file, std::nullopt, gguf).ok());
      std::vector<float> a = Logits(bin, prompt), b = Logits(gguf, prompt);
      ASSERT_EQ(a.size(), 256u);
      EXPECT_EQ(MaxAbsDiff(a, b), 0.0f);
      if (type == "FP32") {
        EXPECT_LE(MaxAbsDiff(b, Expected(stem)), 1e-4f);
      }
    }
  }
}

TEST(ConvertLogitsTest, RequantizedGgufStaysClose) {
  TempDir dir;
  const std::string bin = TinyPath("7v0-834K", "FP32");
  Result<ModelFile> file = ReadModelFile(bin);
  ASSERT_TRUE(file.ok());
  for (DType t : {DType::kF16, DType::kQ8_0}) {
    WriteOptions o;
    o.type = t;
    const std::string path = dir.File("m.gguf");
    ASSERT_TRUE(WriteGgufModel(SourceOf(*file), o, path).ok());
    const float d = MaxAbsDiff(Logits(path, {34, 105, 110}), Expected("7v0-834K"));
    EXPECT_LE(d, t == DType::kF16 ? 1e-4f : 0.05f) << DTypeName(t);
  }
}

TEST(ConvertLogitsTest, RandomModelsAreDeterministicAndSane) {
  TempDir dir;
  for (RwkvVersion v : {RwkvVersion::kV7, RwkvVersion::kV6}) {
    RandomModelSpec spec;
    spec.version = v;
    spec.n_layer = 2;
    spec.n_embd = 128;
    spec.n_vocab = 256;
    spec.seed = 7;
    Result<ModelSource> m = MakeRandomModel(spec);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const std::string a = dir.File("a.gguf"), b = dir.File("b.gguf"), c = dir.File("c.gguf");
    WriteOptions o;
    o.type = DType::kF16;
    o.name = "random";  // else the name is the file's stem
    ASSERT_TRUE(WriteGgufModel(*m, o, a).ok());
    ASSERT_TRUE(WriteGgufModel(*m, o, b).ok());
    EXPECT_EQ(testing::ReadBytes(a), testing::ReadBytes(b));
    spec.seed = 8;
    ASSERT_TRUE(WriteGgufModel(*MakeRandomModel(spec), o, c).ok());
    EXPECT_NE(testing::ReadBytes(a), testing::ReadBytes(c));

    Result<ModelFile> file = ReadModelFile(a);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_EQ(file->config.version, v);
    EXPECT_EQ(file->config.head_size, 64);
    EXPECT_EQ(file->config.ffn_dim, v == RwkvVersion::kV7 ? 512 : 448);
    std::vector<int32_t> tokens;
    for (int i = 0; i < 64; ++i) tokens.push_back((i * 37 + 11) % 256);
    std::vector<float> logits = Logits(a, tokens);
    ASSERT_EQ(logits.size(), 256u);
    float max_abs = 0;
    for (float x : logits) {
      ASSERT_TRUE(std::isfinite(x));
      max_abs = std::max(max_abs, std::fabs(x));
    }
    EXPECT_GT(max_abs, 0.1f);   // not degenerate
    EXPECT_LT(max_abs, 50.0f);  // not exploding
  }
}

TEST(ConvertLogitsTest, RandomModelShapesAreRealOnes) {
  // RWKV-7 0.1B: 12 x 768, LoRA ranks 64 / 64 / 32 / 128; 1.5B: 24 x 2048 -> 96 / 96 / 64 / 256.
  RandomModelSpec s;
  s.n_layer = 12;
  s.n_embd = 768;
  Result<ModelConfig> c = RandomModelConfig(s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->lora_decay, 64);
  EXPECT_EQ(c->lora_iclr, 64);
  EXPECT_EQ(c->lora_value, 32);
  EXPECT_EQ(c->lora_gate, 128);
  EXPECT_EQ(c->ffn_dim, 3072);
  s.n_embd = 2048;
  c = RandomModelConfig(s);
  EXPECT_EQ(c->lora_decay, 96);
  EXPECT_EQ(c->lora_value, 64);
  EXPECT_EQ(c->lora_gate, 256);
  s.n_embd = 100;
  EXPECT_EQ(RandomModelConfig(s).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dte
