// Conversions between rwkv.cpp .bin and GGUF on the real tiny models: bit-exact round trips,
// the types each tensor gets, the metadata llama.cpp needs, and refusals.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gguf_test_util.h"
#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "model/gguf.h"
#include "model/gguf_vocab.h"
#include "model/model_file.h"
#include "model/model_writer.h"

namespace dte {
namespace {

using testing::SameTensors;
using testing::TempDir;
using testing::TinyPath;

struct TinyFile {
  std::string stem, type;
};

const std::vector<TinyFile>& GgufTinyFiles() {
  static const std::vector<TinyFile> files = {
      {"7v0-834K", "FP32"}, {"7v0-834K", "FP16"}, {"7v0-834K", "Q5_0"}, {"7v0-834K", "Q5_1"},
      {"6v0-1m", "FP32"},   {"6v0-1m", "FP16"},   {"6v0-1m", "Q5_0"},   {"6v0-1m", "Q5_1"},
      {"6v0-3m", "Q5_0"},   {"6v0-3m", "Q5_1"},
  };
  return files;
}

void ExpectSameConfig(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.n_vocab, b.n_vocab);
  EXPECT_EQ(a.n_embd, b.n_embd);
  EXPECT_EQ(a.n_layer, b.n_layer);
  EXPECT_EQ(a.head_size, b.head_size);
  EXPECT_EQ(a.ffn_dim, b.ffn_dim);
  EXPECT_EQ(a.lora_mix, b.lora_mix);
  EXPECT_EQ(a.lora_decay, b.lora_decay);
  EXPECT_EQ(a.lora_iclr, b.lora_iclr);
  EXPECT_EQ(a.lora_value, b.lora_value);
  EXPECT_EQ(a.lora_gate, b.lora_gate);
}

TEST(ConvertTest, BinToGgufToBinIsBitExactForV6AndV7) {
  TempDir dir;
  for (const TinyFile& tf : GgufTinyFiles()) {
    SCOPED_TRACE(tf.stem + " " + tf.type);
    Result<ModelFile> bin = ReadRwkvCppFile(TinyPath(tf.stem, tf.type));
    ASSERT_TRUE(bin.ok()) << bin.status().ToString();
    const std::string gguf_path = dir.File(tf.stem + "-" + tf.type + ".gguf");
    ASSERT_TRUE(WriteGgufModel(*bin, std::nullopt, gguf_path).ok());

    Result<ModelFile> gguf = ReadModelFile(gguf_path);
    ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
    EXPECT_EQ(gguf->format, FileFormat::kGguf);
    ExpectSameConfig(gguf->config, bin->config);
    EXPECT_TRUE(SameTensors(bin->tensors, gguf->tensors));
    ASSERT_TRUE(gguf->vocab.has_value());
    EXPECT_EQ(*gguf->vocab, ByteVocab());

    const std::string back_path = dir.File(tf.stem + "-" + tf.type + "-back.bin");
    ASSERT_TRUE(WriteRwkvCppModel(SourceOf(*gguf), WriteOptions{}, back_path).ok());
    Result<ModelFile> back = ReadModelFile(back_path);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->format, FileFormat::kRwkvCpp);
    EXPECT_TRUE(SameTensors(bin->tensors, back->tensors));
  }
}

TEST(ConvertTest, BinToBinIsBitExactForEveryVersion) {
  TempDir dir;
  for (const std::string stem : {"4v0-660K", "5v1-730K", "5v2-730K", "6v0-1m", "7v0-834K"}) {
    for (const std::string type : {"FP32", "FP16", "Q5_0", "Q5_1"}) {
      SCOPED_TRACE(stem + " " + type);
      Result<ModelFile> bin = ReadRwkvCppFile(TinyPath(stem, type));
      ASSERT_TRUE(bin.ok()) << bin.status().ToString();
      const std::string out = dir.File("copy.bin");
      ASSERT_TRUE(WriteRwkvCppModel(SourceOf(*bin), WriteOptions{}, out).ok());
      Result<ModelFile> copy = ReadRwkvCppFile(out);
      ASSERT_TRUE(copy.ok()) << copy.status().ToString();
      EXPECT_TRUE(SameTensors(bin->tensors, copy->tensors));
      // Same header and records in the same order: the very same bytes (but the version:
      // we always write 101, the 4v0 float files say 100).
      std::vector<uint8_t> written = testing::ReadBytes(out),
                           original = testing::ReadBytes(TinyPath(stem, type));
      ASSERT_GE(written.size(), 8u);
      EXPECT_EQ(written[4], 101);
      std::copy(original.begin() + 4, original.begin() + 8, written.begin() + 4);
      EXPECT_TRUE(written == original);
    }
  }
}

TEST(ConvertTest, V4AndV5HaveNoGgufArchitecture) {
  TempDir dir;
  for (const std::string stem : {"4v0-660K", "5v1-730K", "5v2-730K"}) {
    Result<ModelFile> bin = ReadRwkvCppFile(TinyPath(stem, "FP32"));
    ASSERT_TRUE(bin.ok());
    Status s = WriteGgufModel(*bin, std::nullopt, dir.File("x.gguf"));
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
    EXPECT_NE(s.message().find("rwkv.cpp"), std::string::npos) << s.ToString();
    EXPECT_FALSE(std::filesystem::exists(dir.File("x.gguf")));
  }
}

TEST(ConvertTest, GgufHasTheMetadataLlamaCppReads) {
  TempDir dir;
  Result<ModelFile> bin = ReadRwkvCppFile(TinyPath("7v0-834K", "FP32"));
  ASSERT_TRUE(bin.ok());
  const std::string path = dir.File("m.gguf");
  ASSERT_TRUE(WriteGgufModel(*bin, std::nullopt, path).ok());
  Result<GgufFile> g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g->GetString("general.architecture"), "rwkv7");
  EXPECT_EQ(g->alignment(), 32u);
  auto expect_u32 = [&](const std::string& key, int64_t value) {
    const GgufValue* v = g->Find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_EQ(v->type, GgufType::kU32) << key;  // llama.cpp checks key types exactly
    EXPECT_EQ(static_cast<int64_t>(v->u), value) << key;
  };
  expect_u32("general.alignment", 32);
  expect_u32("general.file_type", 0);
  expect_u32("rwkv7.embedding_length", 64);
  expect_u32("rwkv7.block_count", 12);
  expect_u32("rwkv7.feed_forward_length", 256);
  expect_u32("rwkv7.attention.head_count", 0);
  expect_u32("rwkv7.wkv.head_size", 64);
  expect_u32("rwkv7.attention.decay_lora_rank", 32);
  expect_u32("rwkv7.attention.iclr_lora_rank", 32);
  expect_u32("rwkv7.attention.value_residual_mix_lora_rank", 32);
  expect_u32("rwkv7.attention.gate_lora_rank", 32);
  expect_u32("rwkv7.context_length", 1 << 20);
  EXPECT_EQ(g->Find("rwkv7.attention.layer_norm_epsilon")->type, GgufType::kF32);
  EXPECT_EQ(*g->GetString("tokenizer.ggml.model"), "rwkv");
  const GgufValue* tokens = g->Find("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens->array.size(), 256u);
  EXPECT_EQ(tokens->array[0].str, "\\x00");
  EXPECT_EQ(tokens->array[10].str, "\\n");
  EXPECT_EQ(tokens->array['a'].str, "a");
  EXPECT_EQ(tokens->array['\\'].str, "\\\\");
  EXPECT_EQ(tokens->array[0xff].str, "\\xff");
  // llama.cpp's shapes: 1-D vectors, fused lerp [C,1,1,6], block 0's dummy v0/v1/v2.
  EXPECT_EQ(g->FindTensor("blk.0.time_mix_lerp_fused.weight")->shape,
            (std::vector<int64_t>{64, 1, 1, 6}));
  EXPECT_EQ(g->FindTensor("blk.3.time_mix_r_k.weight")->shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(g->FindTensor("blk.3.time_mix_w0.weight")->shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(g->FindTensor("blk.3.channel_mix_lerp_k.weight")->shape,
            (std::vector<int64_t>{64, 1, 1}));
  ASSERT_NE(g->FindTensor("blk.0.time_mix_v1.weight"), nullptr);
  EXPECT_EQ(std::memcmp(g->FindTensor("blk.0.time_mix_v1.weight")->data,
                        g->FindTensor("blk.0.time_mix_a1.weight")->data,
                        g->FindTensor("blk.0.time_mix_a1.weight")->bytes),
            0);
  EXPECT_EQ(g->FindTensor("token_embd_norm.weight")->shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(g->FindTensor("output.weight")->shape, (std::vector<int64_t>{64, 256}));
}

DType TypeOf(const ModelFile& f, const std::string& name) { return f.tensors.Find(name)->type; }

TEST(ConvertTest, RequestedTypesFollowTheTensorRoles) {
  TempDir dir;
  Result<ModelFile> bin = ReadRwkvCppFile(TinyPath("7v0-834K", "FP32"));
  ASSERT_TRUE(bin.ok());
  WriteOptions q8;
  q8.type = DType::kQ8_0;
  const std::string path = dir.File("q8.gguf");
  ASSERT_TRUE(WriteGgufModel(SourceOf(*bin), q8, path).ok());
  Result<ModelFile> g = ReadModelFile(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(TypeOf(*g, "blocks.2.att.key.weight"), DType::kQ8_0);
  EXPECT_EQ(TypeOf(*g, "blocks.2.ffn.value.weight"), DType::kQ8_0);
  EXPECT_EQ(TypeOf(*g, "head.weight"), DType::kQ8_0);
  EXPECT_EQ(TypeOf(*g, "emb.weight"), DType::kF16);
  EXPECT_EQ(TypeOf(*g, "blocks.2.att.w1"), DType::kF32);
  EXPECT_EQ(TypeOf(*g, "blocks.2.att.a1"), DType::kF16);
  EXPECT_EQ(TypeOf(*g, "blocks.2.att.x_rwkvag"), DType::kF32);
  EXPECT_EQ(TypeOf(*g, "blocks.2.ln1.weight"), DType::kF32);
  EXPECT_EQ(*GgufFile::Open(path)->GetInt("general.file_type"), 7);  // MOSTLY_Q8_0
  // Quantization error stays at Q8_0's level.
  std::vector<float> a(64 * 64), b(64 * 64);
  const Tensor* orig = bin->tensors.Find("blocks.2.att.key.weight");
  const Tensor* q = g->tensors.Find("blocks.2.att.key.weight");
  for (int r = 0; r < 64; ++r) {
    DequantizeRow(DType::kF32, static_cast<const uint8_t*>(orig->data) + r * 256, a.data() + r * 64,
                  64);
    DequantizeRow(DType::kQ8_0,
                  static_cast<const uint8_t*>(q->data) + r * DTypeRowBytes(DType::kQ8_0, 64),
                  b.data() + r * 64, 64);
  }
  float max_err = 0;
  for (size_t i = 0; i < a.size(); ++i) max_err = std::max(max_err, std::fabs(a[i] - b[i]));
  EXPECT_LT(max_err, 0.01f);

  // The .bin writer keeps rwkv.cpp's habit: emb and head stay F32 when quantizing.
  WriteOptions q5;
  q5.type = DType::kQ5_1;
  ASSERT_TRUE(WriteRwkvCppModel(SourceOf(*bin), q5, dir.File("q5.bin")).ok());
  Result<ModelFile> b5 = ReadModelFile(dir.File("q5.bin"));
  ASSERT_TRUE(b5.ok()) << b5.status().ToString();
  EXPECT_EQ(TypeOf(*b5, "blocks.2.att.key.weight"), DType::kQ5_1);
  EXPECT_EQ(TypeOf(*b5, "emb.weight"), DType::kF32);
  EXPECT_EQ(TypeOf(*b5, "head.weight"), DType::kQ5_1);
  EXPECT_EQ(TypeOf(*b5, "blocks.2.att.w0"), DType::kF32);
  // rwkv.cpp has no bf16.
  WriteOptions bf;
  bf.type = DType::kBF16;
  EXPECT_EQ(WriteRwkvCppModel(SourceOf(*bin), bf, dir.File("bf.bin")).code(),
            StatusCode::kUnsupported);
}

TEST(ConvertTest, F16ConversionMatchesRwkvCppsOwnF16File) {
  // The tiny weights are exact in bf16, so rounding FP32 to f16 must give rwkv.cpp's FP16 bytes.
  TempDir dir;
  for (const std::string stem : {"7v0-834K", "6v0-1m"}) {
    Result<ModelFile> f32 = ReadRwkvCppFile(TinyPath(stem, "FP32"));
    Result<ModelFile> f16 = ReadRwkvCppFile(TinyPath(stem, "FP16"));
    ASSERT_TRUE(f32.ok() && f16.ok());
    WriteOptions o;
    o.type = DType::kF16;
    ASSERT_TRUE(WriteGgufModel(SourceOf(*f32), o, dir.File("h.gguf")).ok());
    Result<ModelFile> g = ReadModelFile(dir.File("h.gguf"));
    ASSERT_TRUE(g.ok());
    int compared = 0;
    for (const Tensor& t : f16->tensors.tensors()) {
      const Tensor* u = g->tensors.Find(t.name);
      ASSERT_NE(u, nullptr) << t.name;
      if (u->type != DType::kF16 || t.type != DType::kF16) continue;
      EXPECT_EQ(std::memcmp(u->data, t.data, t.bytes), 0) << t.name;
      ++compared;
    }
    EXPECT_GT(compared, 12 * 4) << stem;
  }
}

// Patches the u32 value of `key` in a GGUF file's bytes.
void PatchU32(std::vector<uint8_t>& bytes, const std::string& key, uint32_t value) {
  auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  ASSERT_NE(it, bytes.end()) << key;
  const size_t at = static_cast<size_t>(it - bytes.begin()) + key.size();
  uint32_t type;
  std::memcpy(&type, &bytes[at], 4);
  ASSERT_EQ(type, static_cast<uint32_t>(GgufType::kU32));
  std::memcpy(&bytes[at + 4], &value, 4);
}

TEST(ConvertTest, RescaledV6GgufIsScaledBack) {
  // llama.cpp's converter divides att.output and ffn.value of block i by 2^(i / n) and sets
  // rwkv6.rescale_every_n_layers = n. Build such a file and read the original weights back.
  TempDir dir;
  // (F16 weights would lose bits to subnormals when divided; llama.cpp's F16 files have that
  // loss already, so only F32 and the scales of quantized blocks can round-trip exactly.)
  for (const std::string type : {"FP32", "Q5_1"}) {
    Result<ModelFile> bin = ReadRwkvCppFile(TinyPath("6v0-1m", type));
    ASSERT_TRUE(bin.ok());
    ModelSource src = SourceOf(*bin);
    const int every = 4;
    for (SourceTensor& t : src.tensors) {
      const bool scaled =
          t.name.ends_with(".att.output.weight") || t.name.ends_with(".ffn.value.weight");
      if (!scaled) continue;
      const int layer = std::stoi(t.name.substr(7));
      if (layer / every == 0) continue;
      const float factor = std::ldexp(1.0f, -(layer / every));
      const Tensor* orig = bin->tensors.Find(t.name);
      t.data = nullptr;
      t.generate = [orig, factor](std::vector<uint8_t>* out) {
        const int64_t row = orig->shape[0], n = orig->elements();
        std::vector<float> v(static_cast<size_t>(n));
        const size_t rb = DTypeRowBytes(orig->type, row);
        for (int64_t r = 0; r < n / row; ++r)
          DequantizeRow(orig->type, static_cast<const uint8_t*>(orig->data) + rb * r,
                        v.data() + row * r, row);
        if (DTypeIsQuantized(orig->type)) {  // scale the block scales exactly as llama.cpp's would
          const auto* p = static_cast<const uint8_t*>(orig->data);
          out->assign(p, p + orig->bytes);
          for (size_t b = 0; b < out->size(); b += DTypeBlockBytes(orig->type)) {
            for (size_t off : {size_t{0}, size_t{2}}) {
              uint16_t h;
              std::memcpy(&h, &(*out)[b + off], 2);
              h = FloatToFp16(Fp16ToFloat(h) * factor);
              std::memcpy(&(*out)[b + off], &h, 2);
            }
          }
          return Status::Ok();
        }
        for (float& x : v) x *= factor;
        out->resize(orig->bytes);
        for (int64_t r = 0; r < n / row; ++r)
          QuantizeRow(orig->type, v.data() + row * r, out->data() + rb * r, row);
        return Status::Ok();
      };
    }
    const std::string path = dir.File("rescaled.gguf");
    ASSERT_TRUE(WriteGgufModel(src, WriteOptions{}, path).ok());
    std::vector<uint8_t> bytes = testing::ReadBytes(path);
    PatchU32(bytes, "rwkv6.rescale_every_n_layers", every);
    testing::WriteBytes(path, bytes);
    Result<ModelFile> g = ReadModelFile(path);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_TRUE(SameTensors(bin->tensors, g->tensors)) << type;
  }
}

TEST(ConvertTest, GgufWithoutVocabNeedsOneUnlessBytes) {
  TempDir dir;
  Result<ModelFile> bin = ReadRwkvCppFile(TinyPath("7v0-834K", "FP32"));
  ASSERT_TRUE(bin.ok());
  ModelSource src = SourceOf(*bin);
  src.vocab = std::vector<std::string>(100, "x");
  EXPECT_EQ(WriteGgufModel(src, WriteOptions{}, dir.File("v.gguf")).code(),
            StatusCode::kInvalidArgument);
  // A vocabulary with reserved / padding ids (empty) is stored as llama.cpp's converter does.
  std::vector<std::string> vocab = ByteVocab();
  vocab[0].clear();
  vocab[255].clear();
  src.vocab = vocab;
  ASSERT_TRUE(WriteGgufModel(src, WriteOptions{}, dir.File("v.gguf")).ok());
  Result<GgufFile> g = GgufFile::Open(dir.File("v.gguf"));
  const GgufValue* tokens = g->Find("tokenizer.ggml.tokens");
  const GgufValue* types = g->Find("tokenizer.ggml.token_type");
  EXPECT_EQ(tokens->array[0].str, "<s>");
  EXPECT_EQ(types->array[0].i, 3);  // CONTROL
  EXPECT_EQ(tokens->array[255].str, "[PAD255]");
  EXPECT_EQ(types->array[255].i, 5);  // UNUSED
  EXPECT_EQ(types->array[1].i, 1);    // NORMAL
  Result<ModelFile> m = ReadModelFile(dir.File("v.gguf"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m->vocab, vocab);  // reserved ids come back empty: never produced from text
}

TEST(ConvertTest, OutputFormatFollowsTheExtension) {
  EXPECT_EQ(*OutputFormatForPath("a/b.gguf"), OutputFormat::kGguf);
  EXPECT_EQ(*OutputFormatForPath("b.bin"), OutputFormat::kRwkvCpp);
  EXPECT_EQ(OutputFormatForPath("b.safetensors").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dte
