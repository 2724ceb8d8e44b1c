// AVX2 weight kernels: the vector unit and row decoders for matmul_tiles.h.
// Compiled with -mavx2 -mfma -mf16c. Keeps the rules in matmul_internal.h: everything but the
// entry point is local to this file.

#include <immintrin.h>

#include <cstring>

#include "kernels/matmul_internal.h"
#include "kernels/matmul_tiles.h"

namespace dte::internal {
namespace {

struct Avx2 {
  using Reg = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kInputTile = 3;  // 4 x 3 accumulators + 3 inputs + 1 weight = 16 regs
  static constexpr int kStreamInputs = 4;  // DotRows: 4 x 2 accumulators + 4 weights + 1 input < 16 regs
  static Reg Zero() { return _mm256_setzero_ps(); }
  static Reg Load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg LoadPartial(const float* p, int count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lanes);
    return _mm256_maskload_ps(p, mask);
  }
  static void Store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg Add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static float Reduce(Reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
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

__m128i Load128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// Decoders: Decode(row, s, w) sets w[0..3] to the 32 weights of step s (columns 32s..32s+31);
// At(row, c) is one weight (float types only, for tails). kDirect: rows are already floats.
struct F32Dec {
  static constexpr bool kDirect = true;
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const float* p = reinterpret_cast<const float*>(row) + s * 32;
    for (int j = 0; j < 4; ++j) w[j] = _mm256_loadu_ps(p + 8 * j);
  }
  static float At(const uint8_t* row, int64_t c) {
    float v;
    std::memcpy(&v, row + 4 * c, 4);
    return v;
  }
};

struct F16Dec {
  static constexpr bool kDirect = false;
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const uint8_t* p = row + s * 64;
    for (int j = 0; j < 4; ++j) w[j] = _mm256_cvtph_ps(Load128(p + 16 * j));
  }
  static float At(const uint8_t* row, int64_t c) { return HalfAt(row + 2 * c); }
};

struct BF16Dec {
  static constexpr bool kDirect = false;
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const uint8_t* p = row + s * 64;
    for (int j = 0; j < 4; ++j) {
      const __m256i h = _mm256_cvtepu16_epi32(Load128(p + 16 * j));
      w[j] = _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
    }
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

// 16 packed bytes -> the 32 nibbles as int32 lanes: q[0], q[1] the low nibbles (columns
// 0..15), q[2], q[3] the high nibbles (columns 16..31).
void Nibbles(const uint8_t* qs, __m256i* q) {
  const __m128i v = Load128(qs);
  const __m128i m = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(v, m);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
  q[0] = _mm256_cvtepu8_epi32(lo);
  q[1] = _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8));
  q[2] = _mm256_cvtepu8_epi32(hi);
  q[3] = _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8));
}

// Adds the fifth bit (bit j of qh for column j) as 16.
void HighBits(uint32_t qh, __m256i* q) {
  const __m256i all = _mm256_set1_epi32(static_cast<int>(qh));
  const __m256i one = _mm256_set1_epi32(1);
  for (int j = 0; j < 4; ++j) {
    const __m256i shift = _mm256_setr_epi32(8 * j + 0, 8 * j + 1, 8 * j + 2, 8 * j + 3, 8 * j + 4,
                                            8 * j + 5, 8 * j + 6, 8 * j + 7);
    const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(all, shift), one);
    q[j] = _mm256_or_si256(q[j], _mm256_slli_epi32(bit, 4));
  }
}

// w = q * d + bias, one rounding (exactly the scalar (q - 8) * d for bias = -8d; see avx512).
void Scale(const __m256i* q, float d, float bias, __m256* w) {
  const __m256 vd = _mm256_set1_ps(d);
  const __m256 vb = _mm256_set1_ps(bias);
  for (int j = 0; j < 4; ++j) w[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[j]), vd, vb);
}

struct QuantDec {
  static constexpr bool kDirect = false;
  static float At(const uint8_t*, int64_t) { return 0; }  // quantized rows have no tail
};

struct Q4_0Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const uint8_t* b = row + s * sizeof(BlockQ4_0);
    const float d = HalfAt(b);
    __m256i q[4];
    Nibbles(b + 2, q);
    Scale(q, d, -8 * d, w);
  }
};

struct Q4_1Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const uint8_t* b = row + s * sizeof(BlockQ4_1);
    __m256i q[4];
    Nibbles(b + 4, q);
    Scale(q, HalfAt(b), HalfAt(b + 2), w);
  }
};

struct Q5_0Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const uint8_t* b = row + s * sizeof(BlockQ5_0);
    const float d = HalfAt(b);
    __m256i q[4];
    Nibbles(b + 6, q);
    HighBits(U32At(b + 2), q);
    Scale(q, d, -16 * d, w);
  }
};

struct Q5_1Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const uint8_t* b = row + s * sizeof(BlockQ5_1);
    __m256i q[4];
    Nibbles(b + 8, q);
    HighBits(U32At(b + 4), q);
    Scale(q, HalfAt(b), HalfAt(b + 2), w);
  }
};

struct Q8_0Dec : QuantDec {
  static void Decode(const uint8_t* row, int64_t s, __m256* w) {
    const uint8_t* b = row + s * sizeof(BlockQ8_0);
    const __m256 d = _mm256_set1_ps(HalfAt(b));
    for (int j = 0; j < 4; ++j) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + 2 + 8 * j));
      w[j] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d);
    }
  }
};

}  // namespace

void MatMulRowsAvx2(const MatMulArgs& a, int64_t row_begin, int64_t row_end) {
  tiles::RowsForType<Avx2, F32Dec, F16Dec, BF16Dec, Q4_0Dec, Q4_1Dec, Q5_0Dec, Q5_1Dec, Q8_0Dec>(
      a, row_begin, row_end);
}

}  // namespace dte::internal
