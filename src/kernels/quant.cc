#include "kernels/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "kernels/fp16.h"

namespace dte {
namespace {

// Rows may sit at any byte offset (weights mapped in place from a file), so blocks and halves
// are copied in and out with memcpy rather than accessed through typed pointers.
template <typename Block>
Block LoadBlock(const void* src, int64_t b) {
  Block blk;
  std::memcpy(&blk, static_cast<const uint8_t*>(src) + b * sizeof(Block), sizeof(Block));
  return blk;
}

template <typename Block>
void StoreBlock(const Block& blk, void* dst, int64_t b) {
  std::memcpy(static_cast<uint8_t*>(dst) + b * sizeof(Block), &blk, sizeof(Block));
}

uint16_t LoadU16(const void* src, int64_t i) {
  uint16_t v;
  std::memcpy(&v, static_cast<const uint8_t*>(src) + 2 * i, 2);
  return v;
}

void StoreU16(uint16_t v, void* dst, int64_t i) {
  std::memcpy(static_cast<uint8_t*>(dst) + 2 * i, &v, 2);
}

uint32_t LoadQh(const uint8_t qh[4]) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

// Signed value with the largest magnitude in a block (ggml's Q4_0/Q5_0 scale reference).
float SignedAbsMax(const float* x) {
  float amax = 0, max = 0;
  for (int j = 0; j < kQuantBlock; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void MinMax(const float* x, float* mn, float* mx) {
  *mn = *mx = x[0];
  for (int j = 1; j < kQuantBlock; ++j) {
    *mn = std::min(*mn, x[j]);
    *mx = std::max(*mx, x[j]);
  }
}

}  // namespace

void DequantizeRow(DType type, const void* src, float* dst, int64_t n) {
  const int64_t nb = n / DTypeBlockSize(type);
  DTE_CHECK(n % DTypeBlockSize(type) == 0, "row not a multiple of the block size");
  constexpr int h = kQuantBlock / 2;
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = Fp16ToFloat(LoadU16(src, i));
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(LoadU16(src, i));
      return;
    case DType::kQ4_0:
      for (int64_t b = 0; b < nb; ++b, dst += kQuantBlock) {
        const auto blk = LoadBlock<BlockQ4_0>(src, b);
        float d = Fp16ToFloat(blk.d);
        for (int j = 0; j < h; ++j) {
          dst[j] = static_cast<float>((blk.qs[j] & 0xf) - 8) * d;
          dst[j + h] = static_cast<float>((blk.qs[j] >> 4) - 8) * d;
        }
      }
      return;
    case DType::kQ4_1:
      for (int64_t b = 0; b < nb; ++b, dst += kQuantBlock) {
        const auto blk = LoadBlock<BlockQ4_1>(src, b);
        float d = Fp16ToFloat(blk.d), m = Fp16ToFloat(blk.m);
        for (int j = 0; j < h; ++j) {
          dst[j] = static_cast<float>(blk.qs[j] & 0xf) * d + m;
          dst[j + h] = static_cast<float>(blk.qs[j] >> 4) * d + m;
        }
      }
      return;
    case DType::kQ5_0:
      for (int64_t b = 0; b < nb; ++b, dst += kQuantBlock) {
        const auto blk = LoadBlock<BlockQ5_0>(src, b);
        float d = Fp16ToFloat(blk.d);
        uint32_t qh = LoadQh(blk.qh);
        for (int j = 0; j < h; ++j) {
          int lo = (blk.qs[j] & 0xf) | (((qh >> j) & 1) << 4);
          int hi = (blk.qs[j] >> 4) | (((qh >> (j + h)) & 1) << 4);
          dst[j] = static_cast<float>(lo - 16) * d;
          dst[j + h] = static_cast<float>(hi - 16) * d;
        }
      }
      return;
    case DType::kQ5_1:
      for (int64_t b = 0; b < nb; ++b, dst += kQuantBlock) {
        const auto blk = LoadBlock<BlockQ5_1>(src, b);
        float d = Fp16ToFloat(blk.d), m = Fp16ToFloat(blk.m);
        uint32_t qh = LoadQh(blk.qh);
        for (int j = 0; j < h; ++j) {
          int lo = (blk.qs[j] & 0xf) | (((qh >> j) & 1) << 4);
          int hi = (blk.qs[j] >> 4) | (((qh >> (j + h)) & 1) << 4);
          dst[j] = static_cast<float>(lo) * d + m;
          dst[j + h] = static_cast<float>(hi) * d + m;
        }
      }
      return;
    case DType::kQ8_0:
      for (int64_t b = 0; b < nb; ++b, dst += kQuantBlock) {
        const auto blk = LoadBlock<BlockQ8_0>(src, b);
        float d = Fp16ToFloat(blk.d);
        for (int j = 0; j < kQuantBlock; ++j) dst[j] = static_cast<float>(blk.qs[j]) * d;
      }
      return;
  }
  DTE_CHECK(false, "unknown dtype");
}

void QuantizeRow(DType type, const float* src, void* dst, int64_t n) {
  DTE_CHECK(n % DTypeBlockSize(type) == 0, "row not a multiple of the block size");
  const int64_t nb = n / DTypeBlockSize(type);
  constexpr int h = kQuantBlock / 2;
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) StoreU16(FloatToFp16(src[i]), dst, i);
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) StoreU16(FloatToBf16(src[i]), dst, i);
      return;
    case DType::kQ4_0:
      for (int64_t b = 0; b < nb; ++b, src += kQuantBlock) {
        BlockQ4_0 blk;
        float d = SignedAbsMax(src) / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        blk.d = FloatToFp16(d);
        for (int j = 0; j < h; ++j) {
          int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(src[j] * id + 8.5f)));
          int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(src[j + h] * id + 8.5f)));
          blk.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
        StoreBlock(blk, dst, b);
      }
      return;
    case DType::kQ4_1:
      for (int64_t b = 0; b < nb; ++b, src += kQuantBlock) {
        BlockQ4_1 blk;
        float mn, mx;
        MinMax(src, &mn, &mx);
        float d = (mx - mn) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        blk.d = FloatToFp16(d);
        blk.m = FloatToFp16(mn);
        for (int j = 0; j < h; ++j) {
          int q0 = std::min(15, static_cast<int>((src[j] - mn) * id + 0.5f));
          int q1 = std::min(15, static_cast<int>((src[j + h] - mn) * id + 0.5f));
          blk.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
        }
        StoreBlock(blk, dst, b);
      }
      return;
    case DType::kQ5_0:
      for (int64_t b = 0; b < nb; ++b, src += kQuantBlock) {
        BlockQ5_0 blk;
        float d = SignedAbsMax(src) / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        blk.d = FloatToFp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < h; ++j) {
          int q0 = std::min(31, static_cast<int>(static_cast<int8_t>(src[j] * id + 16.5f)));
          int q1 = std::min(31, static_cast<int>(static_cast<int8_t>(src[j + h] * id + 16.5f)));
          blk.qs[j] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
          qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
          qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + h);
        }
        std::memcpy(blk.qh, &qh, 4);
        StoreBlock(blk, dst, b);
      }
      return;
    case DType::kQ5_1:
      for (int64_t b = 0; b < nb; ++b, src += kQuantBlock) {
        BlockQ5_1 blk;
        float mn, mx;
        MinMax(src, &mn, &mx);
        float d = (mx - mn) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        blk.d = FloatToFp16(d);
        blk.m = FloatToFp16(mn);
        uint32_t qh = 0;
        for (int j = 0; j < h; ++j) {
          int q0 = std::min(31, static_cast<int>((src[j] - mn) * id + 0.5f));
          int q1 = std::min(31, static_cast<int>((src[j + h] - mn) * id + 0.5f));
          blk.qs[j] = static_cast<uint8_t>((q0 & 0xf) | ((q1 & 0xf) << 4));
          qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
          qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + h);
        }
        std::memcpy(blk.qh, &qh, 4);
        StoreBlock(blk, dst, b);
      }
      return;
    case DType::kQ8_0:
      for (int64_t b = 0; b < nb; ++b, src += kQuantBlock) {
        BlockQ8_0 blk;
        float amax = 0;
        for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(src[j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        blk.d = FloatToFp16(d);
        for (int j = 0; j < kQuantBlock; ++j)
          blk.qs[j] = static_cast<int8_t>(std::lround(src[j] * id));
        StoreBlock(blk, dst, b);
      }
      return;
  }
  DTE_CHECK(false, "unknown dtype");
}

}  // namespace dte
