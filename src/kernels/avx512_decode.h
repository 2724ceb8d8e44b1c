#pragma once
// AVX-512 vector unit and weight-row decoders shared by the AVX-512 kernel files
// (matmul_avx512.cc, gemm_avx512.cc). Include only from files compiled with the AVX-512 flags:
// everything here lives in an anonymous namespace, so each of those files gets its own copy
// and nothing compiled for AVX-512 can leak into code another ISA runs (matmul_internal.h).

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/dtype.h"

namespace dte::internal {
namespace {

struct Avx512 {
  using Reg = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kInputTile = 4;  // 4 x 4 accumulators + 4 inputs + 1 weight < 32 regs
  // DotRows up to here: 8 x 2 accumulators + 2 weights + 1 input < 32 regs. With the input loop
  // fully unrolled, 0.1B F16 decode, 2 threads, batch 6 / 8: +32 % / +14 % over the row tiles.
  static constexpr int kStreamInputs = 8;
  static Reg Zero() { return _mm512_setzero_ps(); }
  static Reg Load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg LoadPartial(const float* p, int count) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1), p);
  }
  static void Store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg Add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static float Reduce(Reg v) { return _mm512_reduce_add_ps(v); }
};

float HalfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

uint32_t U32At(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Decoders: Decode(row, s, w) sets w[0..1] to the 32 weights of step s (columns 32s..32s+31);
// At(row, c) is one weight (float types only, for tails). kDirect: rows are already floats.
struct F32Dec {
  static constexpr bool kDirect = true;
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    const float* p = reinterpret_cast<const float*>(row) + s * 32;
    w[0] = _mm512_loadu_ps(p);
    w[1] = _mm512_loadu_ps(p + 16);
  }
  static float At(const uint8_t* row, int64_t c) {
    float v;
    std::memcpy(&v, row + 4 * c, 4);
    return v;
  }
};

struct F16Dec {
  static constexpr bool kDirect = false;
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    const uint8_t* p = row + s * 64;
    w[0] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    w[1] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
  }
  static float At(const uint8_t* row, int64_t c) { return HalfAt(row + 2 * c); }
};

struct BF16Dec {
  static constexpr bool kDirect = false;
  static __m512 Widen(const uint8_t* p) {
    const __m512i h =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
  }
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    w[0] = Widen(row + s * 64);
    w[1] = Widen(row + s * 64 + 32);
  }
  static float At(const uint8_t* row, int64_t c) {
    uint16_t b;
    std::memcpy(&b, row + 2 * c, 2);
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

// 16 packed bytes -> low nibbles (columns 0..15) and high nibbles (16..31) as int32 lanes.
void Nibbles(const uint8_t* qs, __m512i* lo, __m512i* hi) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(0x0f);
  *lo = _mm512_cvtepu8_epi32(_mm_and_si128(v, m));
  *hi = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(v, 4), m));
}

// Adds the fifth bit (bit j of qh for column j) as 16.
void HighBits(uint32_t qh, __m512i* lo, __m512i* hi) {
  const __m512i sixteen = _mm512_set1_epi32(16);
  *lo = _mm512_mask_or_epi32(*lo, static_cast<__mmask16>(qh & 0xffff), *lo, sixteen);
  *hi = _mm512_mask_or_epi32(*hi, static_cast<__mmask16>(qh >> 16), *hi, sixteen);
}

// w = q * d + bias, one rounding. For Q4_0/Q5_0 bias = -8d / -16d, which makes w exactly the
// scalar (q - 8) * d (the product is exact before the one rounding either way).
void Scale(__m512i lo, __m512i hi, float d, float bias, __m512* w) {
  const __m512 vd = _mm512_set1_ps(d);
  const __m512 vb = _mm512_set1_ps(bias);
  w[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), vd, vb);
  w[1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), vd, vb);
}

struct QuantDec {
  static constexpr bool kDirect = false;
  static float At(const uint8_t*, int64_t) { return 0; }  // quantized rows have no tail
};

struct Q4_0Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    const uint8_t* b = row + s * sizeof(BlockQ4_0);
    const float d = HalfAt(b);
    __m512i lo, hi;
    Nibbles(b + 2, &lo, &hi);
    Scale(lo, hi, d, -8 * d, w);
  }
};

struct Q4_1Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    const uint8_t* b = row + s * sizeof(BlockQ4_1);
    __m512i lo, hi;
    Nibbles(b + 4, &lo, &hi);
    Scale(lo, hi, HalfAt(b), HalfAt(b + 2), w);
  }
};

struct Q5_0Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    const uint8_t* b = row + s * sizeof(BlockQ5_0);
    const float d = HalfAt(b);
    __m512i lo, hi;
    Nibbles(b + 6, &lo, &hi);
    HighBits(U32At(b + 2), &lo, &hi);
    Scale(lo, hi, d, -16 * d, w);
  }
};

struct Q5_1Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    const uint8_t* b = row + s * sizeof(BlockQ5_1);
    __m512i lo, hi;
    Nibbles(b + 8, &lo, &hi);
    HighBits(U32At(b + 4), &lo, &hi);
    Scale(lo, hi, HalfAt(b), HalfAt(b + 2), w);
  }
};

struct Q8_0Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m512* w) {
    const uint8_t* b = row + s * sizeof(BlockQ8_0);
    const __m512 d = _mm512_set1_ps(HalfAt(b));
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    const __m512i lo = _mm512_cvtepi8_epi32(_mm256_castsi256_si128(q));
    const __m512i hi = _mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1));
    w[0] = _mm512_mul_ps(_mm512_cvtepi32_ps(lo), d);
    w[1] = _mm512_mul_ps(_mm512_cvtepi32_ps(hi), d);
  }
};

}  // namespace
}  // namespace dte::internal
