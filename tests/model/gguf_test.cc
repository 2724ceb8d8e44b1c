// The GGUF container: writer -> parser round trips, and corrupt, truncated and lying files.

#include "model/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "gguf_test_util.h"
#include "kernels/fp16.h"
#include "kernels/quant.h"

namespace dte {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::WriteBytes;

GgufValue Scalar(GgufType t, int64_t i, uint64_t u, double f) {
  GgufValue v;
  v.type = t;
  v.i = i;
  v.u = u;
  v.f = f;
  return v;
}

std::vector<uint8_t> FloatBytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TensorProducer Bytes(std::vector<uint8_t> b) {
  return [b](std::vector<uint8_t>* out) {
    *out = b;
    return Status::Ok();
  };
}

// A small file with every metadata type and three tensor types.
Status WriteSample(const std::string& path, uint32_t alignment = 32) {
  GgufWriter w(alignment);
  w.Set("general.architecture", GgufValue::String("test"));
  w.Set("t.u8", Scalar(GgufType::kU8, 0, 200, 0));
  w.Set("t.i8", Scalar(GgufType::kI8, -5, 0, 0));
  w.Set("t.u16", Scalar(GgufType::kU16, 0, 60000, 0));
  w.Set("t.i16", Scalar(GgufType::kI16, -30000, 0, 0));
  w.Set("t.u32", GgufValue::U32(4000000000u));
  w.Set("t.i32", GgufValue::I32(-2000000000));
  w.Set("t.u64", GgufValue::U64(1ull << 40));
  w.Set("t.i64", Scalar(GgufType::kI64, -(int64_t{1} << 40), 0, 0));
  w.Set("t.f32", GgufValue::F32(0.25f));
  w.Set("t.f64", Scalar(GgufType::kF64, 0, 0, 1e-300));
  w.Set("t.bool", GgufValue::Bool(true));
  w.Set("t.str", GgufValue::String("héllo\n"));
  w.Set("t.strs", GgufValue::StringArray({"a", "", "\\x00"}));
  w.Set("t.ints", GgufValue::I32Array({1, -2, 3}));
  DTE_RETURN_IF_ERROR(w.AddTensor("a", DType::kF32, {3, 2}, Bytes(FloatBytes({1, 2, 3, 4, 5, 6}))));
  std::vector<uint8_t> f16(64);
  for (int i = 0; i < 32; ++i) {
    uint16_t h = FloatToFp16(static_cast<float>(i) / 8);
    std::memcpy(&f16[2 * i], &h, 2);
  }
  DTE_RETURN_IF_ERROR(w.AddTensor("b.half", DType::kF16, {32}, Bytes(f16)));
  std::vector<float> q(128);
  for (int i = 0; i < 128; ++i) q[i] = std::sin(static_cast<float>(i));
  std::vector<uint8_t> q8(DTypeRowBytes(DType::kQ8_0, 64) * 2);
  QuantizeRow(DType::kQ8_0, q.data(), q8.data(), 64);
  QuantizeRow(DType::kQ8_0, q.data() + 64, q8.data() + q8.size() / 2, 64);
  DTE_RETURN_IF_ERROR(w.AddTensor("c.q8", DType::kQ8_0, {64, 2}, Bytes(q8)));
  return w.Write(path);
}

TEST(GgufTest, RoundTripsMetadataAndTensors) {
  TempDir dir;
  for (uint32_t alignment : {32u, 64u}) {
    const std::string path = dir.File("sample.gguf");
    ASSERT_TRUE(WriteSample(path, alignment).ok());
    Result<GgufFile> f = GgufFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), alignment);
    EXPECT_EQ(f->data_offset() % alignment, 0u);
    EXPECT_EQ(*f->GetString("general.architecture"), "test");
    EXPECT_EQ(f->Find("general.alignment")->type, GgufType::kU32);
    EXPECT_EQ(f->Find("general.alignment")->u, alignment);
    EXPECT_EQ(*f->GetInt("t.u8"), 200);
    EXPECT_EQ(*f->GetInt("t.i8"), -5);
    EXPECT_EQ(*f->GetInt("t.u16"), 60000);
    EXPECT_EQ(*f->GetInt("t.i16"), -30000);
    EXPECT_EQ(*f->GetInt("t.u32"), 4000000000ll);
    EXPECT_EQ(*f->GetInt("t.i32"), -2000000000);
    EXPECT_EQ(*f->GetInt("t.u64"), 1ll << 40);
    EXPECT_EQ(*f->GetInt("t.i64"), -(1ll << 40));
    EXPECT_EQ(*f->GetFloat("t.f32"), 0.25);
    EXPECT_EQ(*f->GetFloat("t.f64"), 1e-300);
    EXPECT_EQ(f->Find("t.bool")->u, 1u);
    EXPECT_EQ(*f->GetString("t.str"), "héllo\n");
    const GgufValue* strs = f->Find("t.strs");
    ASSERT_EQ(strs->array.size(), 3u);
    EXPECT_EQ(strs->elem_type, GgufType::kString);
    EXPECT_EQ(strs->array[2].str, "\\x00");
    const GgufValue* ints = f->Find("t.ints");
    ASSERT_EQ(ints->array.size(), 3u);
    EXPECT_EQ(ints->array[1].i, -2);
    EXPECT_EQ(f->Find("t.u32")->type, GgufType::kU32);
    EXPECT_EQ(f->GetString("t.u32").status().code(), StatusCode::kCorrupt);
    EXPECT_EQ(f->GetInt("nope").status().code(), StatusCode::kNotFound);

    ASSERT_EQ(f->tensors().size(), 3u);
    const GgufTensorInfo* a = f->FindTensor("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(a->dtype, DType::kF32);
    float a5;
    std::memcpy(&a5, a->data + 20, 4);
    EXPECT_EQ(a5, 6.0f);
    const GgufTensorInfo* c = f->FindTensor("c.q8");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->dtype, DType::kQ8_0);
    EXPECT_EQ(c->bytes, 2 * sizeof(BlockQ8_0) * 2);
    for (const GgufTensorInfo& t : f->tensors()) {
      EXPECT_EQ(t.offset % alignment, 0u) << t.name;
      EXPECT_EQ(t.data, f->mapping()->data() + f->data_offset() + t.offset);
    }
    // The file ends with the last tensor's padding, as ggml expects.
    const GgufTensorInfo& last = f->tensors().back();
    EXPECT_EQ(f->mapping()->size(), f->data_offset() + (last.offset + last.bytes + alignment - 1) /
                                                           alignment * alignment);
  }
}

TEST(GgufTest, WriterRefusesBadTensors) {
  GgufWriter w;
  EXPECT_FALSE(w.AddTensor("x", DType::kQ8_0, {31}, Bytes({})).ok());
  EXPECT_FALSE(w.AddTensor("x", DType::kF32, {}, Bytes({})).ok());
  EXPECT_FALSE(w.AddTensor("x", DType::kF32, {1, 1, 1, 1, 1}, Bytes({})).ok());
  ASSERT_TRUE(w.AddTensor("x", DType::kF32, {2}, Bytes({1, 2, 3})).ok());  // 3 bytes, wants 8
  EXPECT_FALSE(w.AddTensor("x", DType::kF32, {2}, Bytes({})).ok());        // duplicate
  TempDir dir;
  Status s = w.Write(dir.File("bad.gguf"));
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_FALSE(std::filesystem::exists(dir.File("bad.gguf")));  // nothing published on failure
}

TEST(GgufTest, EveryTruncationIsAnErrorNamingTheFile) {
  TempDir dir;
  const std::string full = dir.File("full.gguf");
  ASSERT_TRUE(WriteSample(full).ok());
  const std::vector<uint8_t> bytes = ReadBytes(full);
  Result<GgufFile> ok = GgufFile::Open(full);
  ASSERT_TRUE(ok.ok());
  const uint64_t data_offset = ok->data_offset();
  const GgufTensorInfo& last = ok->tensors().back();
  // Like llama.cpp, the reader does not insist on the last tensor's trailing padding.
  const uint64_t data_end = data_offset + last.offset + last.bytes;
  const std::string cut = dir.File("cut.gguf");
  for (size_t n = 0; n < data_end; ++n) {
    WriteBytes(cut,
               std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)));
    Result<GgufFile> f = GgufFile::Open(cut);
    if (n == 0) {  // an empty file cannot even be mapped
      EXPECT_FALSE(f.ok());
      continue;
    }
    ASSERT_FALSE(f.ok()) << "truncated to " << n << " bytes";
    EXPECT_EQ(f.status().code(), StatusCode::kCorrupt) << f.status().ToString();
    EXPECT_NE(f.status().message().find(cut), std::string::npos) << f.status().ToString();
    if (n < data_offset) {  // inside the header: names the offset it stopped at
      EXPECT_NE(f.status().message().find("offset"), std::string::npos) << f.status().ToString();
    } else if (n >= data_offset) {  // inside the data: names a tensor
      EXPECT_NE(f.status().message().find("tensor '"), std::string::npos) << f.status().ToString();
    }
  }
}

TEST(GgufTest, FlippedBytesNeverCrash) {
  TempDir dir;
  const std::string full = dir.File("full.gguf");
  ASSERT_TRUE(WriteSample(full).ok());
  const std::vector<uint8_t> bytes = ReadBytes(full);
  const uint64_t header = GgufFile::Open(full)->data_offset();
  const std::string path = dir.File("flipped.gguf");
  int failures = 0;
  for (size_t i = 0; i < header; ++i) {
    for (uint8_t v : {uint8_t{0xff}, static_cast<uint8_t>(bytes[i] ^ 0x80),
                      static_cast<uint8_t>(bytes[i] + 1)}) {
      std::vector<uint8_t> b = bytes;
      b[i] = v;
      WriteBytes(path, b);
      Result<GgufFile> f = GgufFile::Open(path);
      if (!f.ok()) {
        ++failures;
        EXPECT_NE(f.status().message().find(path), std::string::npos) << f.status().ToString();
        continue;
      }
      for (const GgufTensorInfo& t : f->tensors()) {  // whatever parsed lies inside the file
        ASSERT_GE(t.data, f->mapping()->data());
        ASSERT_LE(t.data + t.bytes, f->mapping()->data() + f->mapping()->size());
      }
    }
  }
  EXPECT_GT(failures, 0);
}

// Builds GGUF bytes by hand, for files the writer would never produce.
class RawGguf {
 public:
  RawGguf(uint64_t n_tensors, uint64_t n_kv) {
    U32(kGgufMagic);
    U32(3);
    U64(n_tensors);
    U64(n_kv);
  }
  RawGguf& U32(uint32_t v) { return Put(&v, 4); }
  RawGguf& U64(uint64_t v) { return Put(&v, 8); }
  RawGguf& Str(const std::string& s) {
    U64(s.size());
    return Put(s.data(), s.size());
  }
  RawGguf& Put(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
    return *this;
  }
  std::vector<uint8_t> bytes;
};

// Padded with zeros so that the counts checked against the file size are not what fails.
Status ParseRaw(const TempDir& dir, std::vector<uint8_t> bytes) {
  const std::string path = dir.File("raw.gguf");
  bytes.resize(bytes.size() + 64, 0);
  WriteBytes(path, bytes);
  return GgufFile::Open(path).status();
}

void ExpectCorrupt(const Status& s, const std::string& fragment) {
  EXPECT_EQ(s.code(), StatusCode::kCorrupt) << s.ToString();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("raw.gguf"), std::string::npos) << s.ToString();
}

TEST(GgufTest, LyingCountsAndSizesAreRefusedBeforeAllocating) {
  TempDir dir;
  ExpectCorrupt(ParseRaw(dir, RawGguf(1ull << 60, 0).bytes), "tensor count");
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1ull << 62).bytes), "metadata count");
  // A string array claiming 2^61 elements.
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1).Str("k").U32(9).U32(8).U64(1ull << 61).bytes),
                "claims");
  // A key claiming a length of 2^40 bytes.
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1).U64(1ull << 40).bytes), "length");
  // A string value longer than the file.
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1).Str("k").U32(8).U64(1000).bytes), "truncated");
  // Unknown value type, nested arrays, bad bool.
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1).Str("k").U32(99).bytes), "unknown value type");
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1).Str("k").U32(9).U32(9).U64(0).bytes), "nested");
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1).Str("k").U32(7).Put("\x05", 1).bytes), "bool");
  // Duplicate keys.
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2).bytes),
                "duplicate");
  // Alignment that is not a power of two.
  ExpectCorrupt(ParseRaw(dir, RawGguf(0, 1).Str("general.alignment").U32(4).U32(48).bytes),
                "alignment");
  // Tensor infos: too many dimensions, a dimension that overflows, an unknown type,
  // a misaligned offset, data past the end.
  auto tensor = [](uint32_t dims, uint64_t ne, uint32_t type, uint64_t offset) {
    RawGguf g(1, 0);
    g.Str("t").U32(dims);
    for (uint32_t d = 0; d < dims && d < 8; ++d) g.U64(ne);
    g.U32(type).U64(offset);
    g.bytes.resize(g.bytes.size() + 64, 0);
    return g.bytes;
  };
  ExpectCorrupt(ParseRaw(dir, tensor(7, 1, 0, 0)), "dimensions");
  ExpectCorrupt(ParseRaw(dir, tensor(4, 1ull << 20, 0, 0)), "invalid shape");
  ExpectCorrupt(ParseRaw(dir, tensor(1, 4, 77, 0)), "unknown ggml type");
  ExpectCorrupt(ParseRaw(dir, tensor(1, 4, 0, 3)), "alignment");
  ExpectCorrupt(ParseRaw(dir, tensor(1, 4, 0, 1ull << 40)), "tensor 't'");
  ExpectCorrupt(ParseRaw(dir, tensor(1, 1000, 0, 0)), "tensor 't'");
  ExpectCorrupt(ParseRaw(dir, tensor(1, 31, 8, 0)), "block size");
  // A well-formed one of the same shape parses.
  EXPECT_TRUE(ParseRaw(dir, tensor(1, 4, 0, 0)).ok());
  // Version 1 and a big-endian file are Unsupported, not Corrupt.
  std::vector<uint8_t> v1 = RawGguf(0, 0).bytes;
  v1[4] = 1;
  EXPECT_EQ(ParseRaw(dir, v1).code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace dte
