// safetensors: a BlinkDL-named checkpoint synthesized from a tiny model (untransformed, as
// PyTorch holds it) reads back to the very same canonical tensors; corrupt files are errors.

#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "gguf_test_util.h"
#include "kernels/fp16.h"
#include "model/model_file.h"
#include "model/model_writer.h"

namespace dte {
namespace {

using testing::ReadBytes;
using testing::SameTensors;
using testing::TempDir;
using testing::TinyPath;
using testing::WriteBytes;
using Shape = std::vector<int64_t>;

std::string DTypeString(DType t) {
  return t == DType::kF32 ? "F32" : t == DType::kF16 ? "F16" : "BF16";
}

// Undoes the transpose of the last two ggml dims ([a, b, ..] ggml = PyTorch [.., b, a] -> the
// PyTorch tensor it came from, [.., a, b], whose bytes are the transposed matrix).
std::vector<uint8_t> Untranspose(const Tensor& t, size_t elem, Shape* torch_shape) {
  // Canonical ggml [a, b] holds PyTorch [b, a] = original^T where original is PyTorch [a, b].
  const int64_t a = t.shape[0], b = t.shape[1];
  const int64_t slices = t.elements() / (a * b);
  std::vector<uint8_t> out(t.bytes);
  const auto* in = static_cast<const uint8_t*>(t.data);
  for (int64_t s = 0; s < slices; ++s)
    for (int64_t i = 0; i < b; ++i)    // canonical row i (PyTorch [b, a] row)
      for (int64_t j = 0; j < a; ++j)  // column j
        std::memcpy(out.data() + (s * a * b + j * b + i) * elem,
                    in + (s * a * b + i * a + j) * elem, elem);
  *torch_shape = t.shape.size() == 3 ? Shape{t.shape[2], a, b} : Shape{a, b};
  return out;
}

std::vector<uint8_t> Raw(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.data);
  return std::vector<uint8_t>(p, p + t.bytes);
}

// The tensors BlinkDL's training code saves for the model in `f` (rwkv.cpp's converter input).
std::vector<SafetensorsOutTensor> BlinkDl(const ModelFile& f, bool with_block0_v) {
  const bool v7 = f.config.version == RwkvVersion::kV7;
  const int64_t C = f.config.n_embd, N = f.config.head_size, H = f.config.n_head;
  std::vector<SafetensorsOutTensor> out;
  for (const Tensor& t : f.tensors.tensors()) {
    const std::string& n = t.name;
    const std::string suffix = n.starts_with("blocks.") ? n.substr(n.find('.', 7) + 1) : "";
    const std::string dtype = DTypeString(t.type);
    const size_t elem = t.type == DType::kF32 ? 4 : 2;
    if (v7 && suffix == "att.x_rwkvag") {
      const std::string prefix = n.substr(0, n.size() - 8);
      for (int k = 0; k < 6; ++k) {
        const auto* p = static_cast<const uint8_t*>(t.data) + k * C * 4;
        out.push_back({prefix + "x_" + std::string(1, "rwkvag"[k]),
                       "F32",
                       {1, 1, C},
                       std::vector<uint8_t>(p, p + C * 4)});
      }
      continue;
    }
    const bool lora = v7 ? (suffix.size() == 6 && suffix.starts_with("att.") &&
                            std::string("wavg").find(suffix[4]) != std::string::npos &&
                            (suffix[5] == '1' || suffix[5] == '2'))
                         : (suffix == "att.time_maa_w1" || suffix == "att.time_maa_w2" ||
                            suffix == "att.time_decay_w1" || suffix == "att.time_decay_w2");
    if (lora) {
      Shape torch;
      std::vector<uint8_t> b = Untranspose(t, elem, &torch);
      out.push_back({n, dtype, torch, b});
      continue;
    }
    Shape torch(t.shape.rbegin(), t.shape.rend());
    if (!v7 && suffix == "att.time_faaaa") torch = {H, N};
    if (!v7 && (suffix == "att.time_decay" || suffix.find("time_maa_") != std::string::npos))
      torch = {1, 1, C};
    out.push_back({n, dtype, torch, Raw(t)});
  }
  if (v7 && with_block0_v) {  // BlinkDL checkpoints carry unused v0/v1/v2 in block 0
    const int64_t r = f.config.lora_value;
    out.push_back({"blocks.0.att.v0", "F32", {1, 1, C}, std::vector<uint8_t>(C * 4, 0)});
    out.push_back({"blocks.0.att.v1", "F32", {C, r}, std::vector<uint8_t>(C * r * 4, 0)});
    out.push_back({"blocks.0.att.v2", "F32", {r, C}, std::vector<uint8_t>(C * r * 4, 0)});
  }
  return out;
}

TEST(SafetensorsTest, BlinkDlCheckpointReadsToTheCanonicalTensors) {
  TempDir dir;
  for (const std::string stem : {"7v0-834K", "6v0-1m"}) {
    for (const std::string type : {"FP32", "FP16"}) {
      SCOPED_TRACE(stem + " " + type);
      Result<ModelFile> bin = ReadRwkvCppFile(TinyPath(stem, type));
      ASSERT_TRUE(bin.ok());
      const std::string path = dir.File(stem + type + ".safetensors");
      ASSERT_TRUE(WriteSafetensors(path, BlinkDl(*bin, true), {{"format", "pt"}}).ok());
      Result<ModelFile> st = ReadModelFile(path);  // detected by its first bytes
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      EXPECT_EQ(st->format, FileFormat::kSafetensors);
      EXPECT_EQ(st->config.version, bin->config.version);
      EXPECT_EQ(st->config.n_layer, bin->config.n_layer);
      EXPECT_EQ(st->config.head_size, bin->config.head_size);
      EXPECT_TRUE(SameTensors(bin->tensors, st->tensors));
      Result<SafetensorsFile> raw = SafetensorsFile::Open(path);
      ASSERT_TRUE(raw.ok());
      EXPECT_EQ(raw->metadata().at("format"), "pt");
    }
  }
}

TEST(SafetensorsTest, Bf16MatricesStayViews) {
  TempDir dir;
  Result<ModelFile> bin = ReadRwkvCppFile(TinyPath("7v0-834K", "FP32"));
  ASSERT_TRUE(bin.ok());
  std::vector<SafetensorsOutTensor> tensors = BlinkDl(*bin, false);
  for (SafetensorsOutTensor& t : tensors) {  // bf16 everywhere, as BlinkDL ships them
    std::vector<uint8_t> b(t.bytes.size() / 2);
    for (size_t i = 0; i < b.size() / 2; ++i) {
      float f;
      std::memcpy(&f, &t.bytes[4 * i], 4);
      const uint16_t h = FloatToBf16(f);
      std::memcpy(&b[2 * i], &h, 2);
    }
    t.bytes = b;
    t.dtype = "BF16";
  }
  const std::string path = dir.File("bf16.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, tensors).ok());
  Result<ModelFile> st = ReadModelFile(path);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->tensors.Find("blocks.1.att.key.weight")->type, DType::kBF16);
  EXPECT_EQ(st->tensors.Find("blocks.1.att.a1")->type, DType::kBF16);
  EXPECT_EQ(st->tensors.Find("blocks.1.att.x_rwkvag")->type, DType::kF32);
  EXPECT_EQ(st->tensors.Find("blocks.1.att.k_k")->type, DType::kF32);
  // The tiny weights are exact in bf16: the values are the FP32 model's.
  Result<std::vector<float>> a = TensorToFloats(*bin->tensors.Find("blocks.1.att.x_rwkvag"));
  Result<std::vector<float>> b = TensorToFloats(*st->tensors.Find("blocks.1.att.x_rwkvag"));
  EXPECT_EQ(*a, *b);
  // And it converts on to GGUF.
  ASSERT_TRUE(WriteGgufModel(*st, std::nullopt, dir.File("bf16.gguf")).ok());
  Result<ModelFile> g = ReadModelFile(dir.File("bf16.gguf"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(SameTensors(st->tensors, g->tensors));
}

class SafetensorsCorruptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("m.safetensors");
    Result<ModelFile> bin = ReadRwkvCppFile(TinyPath("7v0-834K", "FP32"));
    ASSERT_TRUE(bin.ok());
    // Two blocks are enough for a valid model and keep the truncation loop short.
    std::vector<SafetensorsOutTensor> all = BlinkDl(*bin, false), some;
    for (SafetensorsOutTensor& t : all)
      if (!t.name.starts_with("blocks.") || t.name.starts_with("blocks.0.") ||
          t.name.starts_with("blocks.1."))
        some.push_back(std::move(t));
    ASSERT_TRUE(WriteSafetensors(path_, some).ok());
    bytes_ = ReadBytes(path_);
    ASSERT_TRUE(ReadSafetensorsModelFile(path_).ok());
  }
  Status Read(const std::vector<uint8_t>& b) {
    WriteBytes(path_, b);
    return ReadSafetensorsModelFile(path_).status();
  }
  std::vector<uint8_t> WithHeader(const std::string& json) {
    const uint64_t n = json.size();
    std::string s(reinterpret_cast<const char*>(&n), 8);
    s += json;
    s.append(64, '\0');
    return std::vector<uint8_t>(s.begin(), s.end());
  }
  void ExpectError(const Status& s, const std::string& fragment) {
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(path_), std::string::npos) << s.ToString();
  }
  TempDir dir_;
  std::string path_;
  std::vector<uint8_t> bytes_;
};

TEST_F(SafetensorsCorruptTest, EveryTruncationIsAnError) {
  uint64_t header;
  std::memcpy(&header, bytes_.data(), 8);
  // Every cut in the length and the start of the JSON, then a sample of the rest (each cut
  // rewrites the whole file), and the very last bytes.
  std::vector<size_t> cuts;
  for (size_t n = 1; n < 128; ++n) cuts.push_back(n);
  for (size_t n = 128; n < 8 + header; n += 13) cuts.push_back(n);
  for (size_t n = 8 + header; n < bytes_.size(); n += 1021) cuts.push_back(n);
  for (size_t n = bytes_.size() - 8; n < bytes_.size(); ++n) cuts.push_back(n);
  for (size_t n : cuts) {
    Status s =
        Read(std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(s.ok()) << "truncated to " << n;
    EXPECT_EQ(s.code(), StatusCode::kCorrupt) << s.ToString();
    EXPECT_NE(s.message().find(path_), std::string::npos) << s.ToString();
    if (n >= 8 + header) {
      EXPECT_NE(s.message().find("tensor '"), std::string::npos) << s.ToString();
    }
  }
}

TEST_F(SafetensorsCorruptTest, LiesAndGarbageAreErrors) {
  std::vector<uint8_t> b = bytes_;
  const uint64_t huge = 1ull << 40;
  std::memcpy(b.data(), &huge, 8);
  ExpectError(Read(b), "header length");
  const uint64_t past = bytes_.size();
  std::memcpy(b.data(), &past, 8);
  ExpectError(Read(b), "truncated");
  ExpectError(Read(WithHeader("not json")), "not a JSON object");
  ExpectError(Read(WithHeader("[1,2]")), "not a JSON object");
  ExpectError(Read(WithHeader(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,1000]}})")),
              "outside");
  ExpectError(Read(WithHeader(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[8,0]}})")),
              "outside");
  ExpectError(Read(WithHeader(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}})")),
              "needs 20");
  ExpectError(Read(WithHeader(R"({"a":{"dtype":"Q9","shape":[4],"data_offsets":[0,16]}})")),
              "unknown dtype");
  ExpectError(Read(WithHeader(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})")),
              "non-negative");
  ExpectError(
      Read(WithHeader(
          R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}})")),
      "too large");
  ExpectError(Read(WithHeader(R"({"a":{"dtype":"F32","shape":[4]}})")), "data_offsets");
  ExpectError(Read(WithHeader(R"({"a":3})")), "expected an object");
  ExpectError(Read(WithHeader(R"({"__metadata__":{"k":1}})")), "__metadata__");
  // Valid container, but not an RWKV checkpoint / not a dtype we compute with.
  Status s = Read(WithHeader(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})"));
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  s = Read(WithHeader(R"({"blocks.0.att.r_k":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}})"));
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_NE(s.message().find("I32"), std::string::npos) << s.ToString();
}

TEST_F(SafetensorsCorruptTest, FlippedHeaderBytesNeverCrash) {
  uint64_t header;
  std::memcpy(&header, bytes_.data(), 8);
  for (size_t i = 0; i < 8 + header; i += (i < 64 ? 1 : 11)) {
    std::vector<uint8_t> b = bytes_;
    b[i] ^= 0x5a;
    Status s = Read(b);
    if (!s.ok()) {
      EXPECT_NE(s.message().find(path_), std::string::npos) << s.ToString();
    }
  }
}

}  // namespace
}  // namespace dte
