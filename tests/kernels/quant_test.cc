// quant.cc: block layouts decoded by hand, and QuantizeRow -> DequantizeRow error bounds.

#include "kernels/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/fp16.h"

namespace dte {
namespace {

constexpr uint16_t kHalfOne = 0x3c00;   // 1.0
constexpr uint16_t kHalfHalf = 0x3800;  // 0.5

// Layouts decoded from bytes written by hand, independent of QuantizeRow.
TEST(QuantLayoutTest, Q4_0NibbleOrder) {
  BlockQ4_0 b{};
  b.d = kHalfOne;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  DequantizeRow(DType::kQ4_0, &b, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], j - 8) << j;
    EXPECT_EQ(out[j + 16], 7 - j) << j;
  }
}

TEST(QuantLayoutTest, Q4_1ScaleAndMin) {
  BlockQ4_1 b{};
  b.d = kHalfHalf;
  b.m = FloatToFp16(-3.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | (j << 4));
  float out[32];
  DequantizeRow(DType::kQ4_1, &b, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], j * 0.5f - 3) << j;
    EXPECT_EQ(out[j + 16], j * 0.5f - 3) << j;
  }
}

TEST(QuantLayoutTest, Q5_0HighBits) {
  BlockQ5_0 b{};
  b.d = kHalfOne;
  const uint32_t qh = 0xa5a5f00fu;  // bit j = fifth bit of column j
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  DequantizeRow(DType::kQ5_0, &b, out, 32);
  for (int j = 0; j < 16; ++j) {
    const int lo = j | static_cast<int>(((qh >> j) & 1) << 4);
    const int hi = (15 - j) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
    EXPECT_EQ(out[j], lo - 16) << j;
    EXPECT_EQ(out[j + 16], hi - 16) << j;
  }
}

TEST(QuantLayoutTest, Q5_1HighBits) {
  BlockQ5_1 b{};
  b.d = kHalfOne;
  b.m = FloatToFp16(0.25f);
  const uint32_t qh = 0x0ff0c33cu;
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>((j * 3 % 16) | ((j * 5 % 16) << 4));
  float out[32];
  DequantizeRow(DType::kQ5_1, &b, out, 32);
  for (int j = 0; j < 16; ++j) {
    const int lo = (j * 3 % 16) | static_cast<int>(((qh >> j) & 1) << 4);
    const int hi = (j * 5 % 16) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
    EXPECT_EQ(out[j], lo + 0.25f) << j;
    EXPECT_EQ(out[j + 16], hi + 0.25f) << j;
  }
}

TEST(QuantLayoutTest, Q8_0) {
  BlockQ8_0 b{};
  b.d = kHalfHalf;
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);
  float out[32];
  DequantizeRow(DType::kQ8_0, &b, out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], (j * 8 - 128) * 0.5f) << j;
}

// Rows of several kinds: plain random, wide ranges, all-zero and constant blocks, one-sided
// blocks, single outliers.
std::vector<float> TestRow(int kind, int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> row(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t block = i / 32;
    switch (kind) {
      case 0:
        row[i] = u(rng);
        break;
      case 1:
        row[i] = u(rng) * std::pow(10.0f, static_cast<float>(block % 7) - 3);
        break;
      case 2:
        row[i] = block % 3 == 0 ? 0.0f : block % 3 == 1 ? 0.75f : -2.5f;
        break;
      case 3:
        row[i] = std::fabs(u(rng)) + (block % 2 ? 5.0f : -7.0f);
        break;
      default:
        row[i] = (i % 32 == 5) ? 100.0f * (block % 2 ? 1 : -1) : u(rng) * 0.01f;
        break;
    }
  }
  return row;
}

// Rounding error of storing v as fp16: half an ulp, or half the subnormal step for tiny v.
float HalfError(float v) { return std::max(std::fabs(v) / 2048, 1.0f / (1 << 25)); }

// Largest error the round trip of one block may make, per element, given its values: the
// quantization step (half of it, or a whole one where ggml's rule clips the extreme opposite
// the signed maximum) plus the error of the fp16 scale times the largest level, plus the fp16
// error of the minimum. 1.001 covers the float arithmetic of the quantizer.
float BlockBound(DType type, const float* x) {
  float mn = x[0], mx = x[0], amax = 0;
  for (int j = 0; j < 32; ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
    amax = std::max(amax, std::fabs(x[j]));
  }
  float bound = 0;
  switch (type) {
    case DType::kQ8_0:
      bound = amax / 127 / 2 + 127 * HalfError(amax / 127);
      break;
    case DType::kQ4_0:
      bound = amax / 8 + 8 * HalfError(amax / 8);
      break;
    case DType::kQ5_0:
      bound = amax / 16 + 16 * HalfError(amax / 16);
      break;
    case DType::kQ4_1: {
      const float d = (mx - mn) / 15;
      bound = d / 2 + 15 * HalfError(d) + HalfError(mn);
      break;
    }
    case DType::kQ5_1: {
      const float d = (mx - mn) / 31;
      bound = d / 2 + 31 * HalfError(d) + HalfError(mn);
      break;
    }
    default:
      break;
  }
  return bound * 1.001f + 1e-30f;
}

class QuantRoundTripTest : public ::testing::TestWithParam<DType> {};

TEST_P(QuantRoundTripTest, ErrorWithinBound) {
  const DType type = GetParam();
  std::mt19937 rng(42);
  const int64_t n = 32 * 64;
  std::vector<uint8_t> packed(DTypeRowBytes(type, n));
  std::vector<float> back(n);
  for (int kind = 0; kind < 5; ++kind) {
    const std::vector<float> row = TestRow(kind, n, rng);
    QuantizeRow(type, row.data(), packed.data(), n);
    DequantizeRow(type, packed.data(), back.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      float bound;
      switch (type) {
        case DType::kF32:
          bound = 0;
          break;
        case DType::kF16:
          bound = HalfError(row[i]);
          break;
        case DType::kBF16:
          bound = std::fabs(row[i]) / 256;
          break;
        default:
          bound = BlockBound(type, &row[i / 32 * 32]);
          break;
      }
      ASSERT_LE(std::fabs(back[i] - row[i]), bound)
          << DTypeName(type) << " kind " << kind << " index " << i << " value " << row[i];
    }
    // Quantizing the dequantized row again changes nothing (for a fixed point of the
    // quantizer: the dequantized values are representable).
    if (type == DType::kF32 || type == DType::kF16 || type == DType::kBF16 ||
        type == DType::kQ8_0) {
      std::vector<uint8_t> again(packed.size());
      QuantizeRow(type, back.data(), again.data(), n);
      std::vector<float> back2(n);
      DequantizeRow(type, again.data(), back2.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_NEAR(back2[i], back[i], BlockBound(DType::kQ8_0, &back[i / 32 * 32]) * 0.02f)
            << DTypeName(type) << " kind " << kind << " index " << i;
      }
    }
  }
}

TEST_P(QuantRoundTripTest, ZeroRowStaysZero) {
  const DType type = GetParam();
  const int64_t n = 64;
  std::vector<float> zeros(n, 0.0f), back(n, 1.0f);
  std::vector<uint8_t> packed(DTypeRowBytes(type, n));
  QuantizeRow(type, zeros.data(), packed.data(), n);
  DequantizeRow(type, packed.data(), back.data(), n);
  for (float v : back) EXPECT_EQ(v, 0.0f) << DTypeName(type);
}

// Rows mapped in place from a file need not be aligned.
TEST_P(QuantRoundTripTest, UnalignedRows) {
  const DType type = GetParam();
  std::mt19937 rng(3);
  const int64_t n = 96;
  const std::vector<float> row = TestRow(0, n, rng);
  std::vector<uint8_t> aligned(DTypeRowBytes(type, n)), odd(aligned.size() + 1);
  QuantizeRow(type, row.data(), aligned.data(), n);
  QuantizeRow(type, row.data(), odd.data() + 1, n);
  EXPECT_EQ(0, std::memcmp(aligned.data(), odd.data() + 1, aligned.size()));
  std::vector<float> a(n), b(n);
  DequantizeRow(type, aligned.data(), a.data(), n);
  DequantizeRow(type, odd.data() + 1, b.data(), n);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), n * sizeof(float)));
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantRoundTripTest,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0,
                                           DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

}  // namespace
}  // namespace dte
