// Version detection from tensor names, and errors (not crashes) for inconsistent files.

#include "model/config.h"

#include <gtest/gtest.h>

#include "model/tensor_store.h"

namespace dte {
namespace {

void AddF32(TensorStore& ts, const std::string& name, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  ts.AddOwnedF32(name, shape, std::vector<float>(static_cast<size_t>(n), 0.0f));
}

TensorStore Skeleton() {
  TensorStore ts;
  AddF32(ts, "emb.weight", {16, 32});
  AddF32(ts, "blocks.0.ln1.weight", {16});
  AddF32(ts, "blocks.1.ln1.weight", {16});
  AddF32(ts, "blocks.0.ffn.key.weight", {16, 64});
  return ts;
}

TEST(DetectConfigTest, V4WhenNoNewerMarkers) {
  auto c = DetectConfig(Skeleton());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->version, RwkvVersion::kV4);
  EXPECT_EQ(c->n_embd, 16);
  EXPECT_EQ(c->n_vocab, 32);
  EXPECT_EQ(c->n_layer, 2);
  EXPECT_EQ(c->ffn_dim, 64);
}

// Regression: a v7 file without att.w1 (found by rwkvcpp_fuzz) aborted on a CHECK.
TEST(DetectConfigTest, V7WithoutLoraIsAnErrorNotACrash) {
  TensorStore ts = Skeleton();
  AddF32(ts, "blocks.0.att.r_k", {8, 2});
  auto c = DetectConfig(ts);
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("blocks.0.att.w1"), std::string::npos) << c.status().ToString();
}

TEST(DetectConfigTest, V6WithoutLoraIsAnErrorNotACrash) {
  TensorStore ts = Skeleton();
  AddF32(ts, "blocks.0.att.time_maa_x", {16});
  AddF32(ts, "blocks.0.att.time_faaaa", {1, 8, 2});
  EXPECT_FALSE(DetectConfig(ts).ok());
}

TEST(DetectConfigTest, HeadSizeMustDivideEmbedding) {
  TensorStore ts = Skeleton();
  AddF32(ts, "blocks.0.att.r_k", {7, 1});
  AddF32(ts, "blocks.0.att.w1", {16, 4});
  AddF32(ts, "blocks.0.att.a1", {16, 4});
  AddF32(ts, "blocks.0.att.g1", {16, 4});
  auto c = DetectConfig(ts);
  EXPECT_EQ(c.status().code(), StatusCode::kCorrupt);
}

TEST(DetectConfigTest, MissingEmbeddingNamesIt) {
  TensorStore ts;
  auto c = DetectConfig(ts);
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("emb.weight"), std::string::npos);
}

}  // namespace
}  // namespace dte
