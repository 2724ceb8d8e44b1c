// ReadGgufModelFile on GGUF files whose container is valid but whose model is not: lying
// metadata, missing or misshapen tensors, other architectures. Errors, never crashes.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "gguf_test_util.h"
#include "model/gguf.h"
#include "model/model_file.h"
#include "model/model_writer.h"

namespace dte {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::TinyPath;
using testing::WriteBytes;

class GgufModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<ModelFile> bin = ReadRwkvCppFile(TinyPath("7v0-834K", "Q5_1"));
    ASSERT_TRUE(bin.ok());
    path_ = dir_.File("m.gguf");
    ASSERT_TRUE(WriteGgufModel(*bin, std::nullopt, path_).ok());
    bytes_ = ReadBytes(path_);
  }
  // Offset of the value of a metadata key (just after its type field).
  size_t ValueOffset(const std::string& key) {
    auto it = std::search(bytes_.begin(), bytes_.end(), key.begin(), key.end());
    EXPECT_NE(it, bytes_.end()) << key;
    return static_cast<size_t>(it - bytes_.begin()) + key.size() + 4;
  }
  Status WithU32(const std::string& key, uint32_t v) {
    std::vector<uint8_t> b = bytes_;
    std::memcpy(&b[ValueOffset(key)], &v, 4);
    WriteBytes(path_, b);
    return ReadGgufModelFile(path_).status();
  }
  void Expect(const Status& s, StatusCode code, const std::string& fragment) {
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(path_), std::string::npos) << s.ToString();
  }
  TempDir dir_;
  std::string path_;
  std::vector<uint8_t> bytes_;
};

TEST_F(GgufModelTest, LyingHyperParametersAreErrors) {
  Expect(WithU32("rwkv7.block_count", 13), StatusCode::kCorrupt, "missing tensor 'blk.12.");
  Expect(WithU32("rwkv7.block_count", 4000000000u), StatusCode::kCorrupt, "block_count");
  Expect(WithU32("rwkv7.block_count", 0), StatusCode::kCorrupt, "block_count");
  Expect(WithU32("rwkv7.embedding_length", 128), StatusCode::kCorrupt, "token_embd.weight");
  Expect(WithU32("rwkv7.embedding_length", 32), StatusCode::kCorrupt, "head_size");
  Expect(WithU32("rwkv7.wkv.head_size", 7), StatusCode::kCorrupt, "not a multiple");
  // (head_size 32 would be a different but valid reading of the same tensors: 2 heads.)
  Expect(WithU32("rwkv7.attention.decay_lora_rank", 16), StatusCode::kCorrupt,
         "time_mix_w1.weight");
  Expect(WithU32("rwkv7.feed_forward_length", 1 << 30), StatusCode::kCorrupt,
         "feed_forward_length");
  Expect(WithU32("rwkv7.feed_forward_length", 128), StatusCode::kCorrupt, "channel_mix_key");
}

TEST_F(GgufModelTest, OtherArchitecturesAndMissingKeysAreRefused) {
  std::vector<uint8_t> b = bytes_;
  const size_t at = ValueOffset("general.architecture") + 8;  // past the string length
  std::memcpy(&b[at], "llama", 5);
  WriteBytes(path_, b);
  Expect(ReadGgufModelFile(path_).status(), StatusCode::kUnsupported, "'llama'");
  // A key renamed away.
  b = bytes_;
  const std::string key = "rwkv7.wkv.head_size";
  auto it = std::search(b.begin(), b.end(), key.begin(), key.end());
  *(it + 6) = 'X';
  WriteBytes(path_, b);
  Expect(ReadGgufModelFile(path_).status(), StatusCode::kNotFound, "rwkv7.wkv.head_size");
  // A tensor renamed away.
  b = bytes_;
  const std::string tensor = "blk.5.time_mix_k_k.weight";
  it = std::search(b.begin(), b.end(), tensor.begin(), tensor.end());
  *(it + 4) = 'Z';
  WriteBytes(path_, b);
  Expect(ReadGgufModelFile(path_).status(), StatusCode::kCorrupt,
         "missing tensor 'blk.5.time_mix_k_k.weight'");
}

TEST_F(GgufModelTest, EveryMetadataByteFlipIsHandled) {
  Result<GgufFile> g = GgufFile::Open(path_);
  ASSERT_TRUE(g.ok());
  // The metadata and tensor infos, sampled (the token list is long).
  for (size_t i = 0; i < g->data_offset(); i += (i < 512 ? 1 : 97)) {
    std::vector<uint8_t> b = bytes_;
    b[i] ^= 0x21;
    WriteBytes(path_, b);
    Result<ModelFile> m = ReadGgufModelFile(path_);
    if (!m.ok()) {
      EXPECT_NE(m.status().message().find(path_), std::string::npos)
          << i << ": " << m.status().ToString();
    }
  }
}

}  // namespace
}  // namespace dte
