// Int8 products of Q8_0 weights with inputs quantized to int8 (matmul.h, MatMulPrecision::kQ8),
// on AVX512_VNNI: per pair of weight blocks one vpdpbusd (64 multiply-adds of u8 x s8 into 16
// int32 lanes), one int->float conversion and one FMA with d_w * d_x, where the float kernels
// (avx512_decode.h Q8_0Dec) need two sign extensions, two conversions, two scalings and two
// FMAs per block. This makes the batch-1 product of Q8_0 weights memory-bound like F16's.
//
// vpdpbusd multiplies unsigned bytes by signed ones. The weights are made unsigned by flipping
// their sign bit (w ^ 0x80 = w + 128 for every int8, -128 included) and the excess
// 128 * sum(q) is taken off by starting each accumulator at the input record's bias
// (matmul_internal.h), so every block's int32 sum is exact.
//
// Compiled with the AVX-512 flags plus VNNI; keeps the rules of matmul_internal.h (everything
// but the entry points is local to this file). Thread-safety: pure functions.

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/matmul_internal.h"
#include "kernels/stream_prefetch.h"

namespace dte::internal {
namespace {

constexpr int64_t kBlockBytes = sizeof(BlockQ8_0);  // 34
constexpr int64_t kPairBytes = 2 * kBlockBytes;     // 68
float HalfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// One block of 32 inputs: q (32 bytes), bias (8 lanes) and scale (8 lanes) at the given places.
void QuantizeBlock(const float* x, int8_t* q, int32_t* bias, float* scale) {
  const __m512 x0 = _mm512_loadu_ps(x);
  const __m512 x1 = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
  const float d = amax / 127.0f;
  const float id = amax > 0 ? 127.0f / amax : 0.0f;
  const __m512 vid = _mm512_set1_ps(id);
  // Round to nearest even (the default MXCSR mode), as std::nearbyint in the reference.
  const __m128i q0 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x0, vid)));
  const __m128i q1 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x1, vid)));
  const __m256i qv = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), qv);
  // Sums of four consecutive q per lane, times -128.
  const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), qv);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(bias),
                      _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sums, 7)));
  _mm256_storeu_ps(scale, _mm256_set1_ps(d));
}

// Word indices for vpermw: lanes 0..7 take word 0 (the first block's d), lanes 8..15 word 17
// (byte 34: the second block's d).
__m512i ScaleIndex() {
  const int w17 = 17 | (17 << 16);  // two words of 17
  return _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, w17, w17, w17, w17, 0, 0, 0, 0);
}

// The products of one pair of weight blocks (at b) with N inputs' records, added to acc[i].
template <int N>
inline void Q8Pair(const uint8_t* b, const Q8InputPair* in, int64_t stride, __m512i flip,
                   __m512i index, __m512* acc) {
  const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
  const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + kBlockBytes + 2));
  const __m512i w = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1), flip);
  const __m512i raw = _mm512_loadu_si512(b);  // both scales, within the pair's 68 bytes
  const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(index, raw)));
#pragma GCC unroll 8
  for (int i = 0; i < N; ++i) {
    const Q8InputPair& x = in[i * stride];
    const __m512i sum = _mm512_dpbusd_epi32(_mm512_load_si512(x.bias), w, _mm512_load_si512(x.q));
    const __m512 s = _mm512_mul_ps(dw, _mm512_load_ps(x.scale));
    acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), s, acc[i]);
  }
}

// y[i * rows + r] = row r . x_i for N inputs: the row is streamed once (like DotRows in
// matmul_tiles.h), two accumulators per input (pairs alternate between them).
template <int N>
void Q8Row(const MatMulArgs& a, const Q8InputPair* in, int64_t stride, int64_t r) {
  const uint8_t* row = a.w + r * static_cast<int64_t>(a.row_bytes);
  const int64_t blocks = a.cols / 32;
  const int64_t pairs = blocks / 2;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i index = ScaleIndex();
  __m512 acc0[N], acc1[N];
  for (int i = 0; i < N; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  int64_t p = 0;
  for (; p + 2 <= pairs; p += 2) {
    Q8Pair<N>(row + p * kPairBytes, in + p, stride, flip, index, acc0);
    Q8Pair<N>(row + (p + 1) * kPairBytes, in + p + 1, stride, flip, index, acc1);
  }
  if (p < pairs) Q8Pair<N>(row + p * kPairBytes, in + p, stride, flip, index, acc0);
  float tail[N] = {};
  if (blocks % 2 != 0) {  // the last block alone, 256 bits wide
    const uint8_t* b = row + pairs * kPairBytes;
    const __m256i w = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2)),
                                       _mm256_set1_epi8(static_cast<char>(0x80)));
    const __m256 dw = _mm256_set1_ps(HalfAt(b));
    for (int i = 0; i < N; ++i) {
      const Q8InputPair& x = in[i * stride + pairs];
      const __m256i sum =
          _mm256_dpbusd_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(x.bias)), w,
                              _mm256_load_si256(reinterpret_cast<const __m256i*>(x.q)));
      const __m256 v =
          _mm256_mul_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(dw, _mm256_load_ps(x.scale)));
      const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
      const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
      tail[i] = _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
    }
  }
  for (int i = 0; i < N; ++i) {
    a.y[i * a.rows + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[i], acc1[i])) + tail[i];
  }
}

template <int N>
void Q8Rows(const MatMulArgs& a, const Q8InputPair* in, int64_t stride, int64_t r0, int64_t r1) {
  const int64_t row_bytes = static_cast<int64_t>(a.row_bytes);
  StreamPrefetcher prefetch(a, r0, r1);
  for (int64_t r = r0; r < r1; ++r) {
    prefetch.ReadingAt(a.w + (r + 1) * row_bytes);
    Q8Row<N>(a, in, stride, r);
  }
}

}  // namespace

void QuantizeInputsQ8Avx512(const float* x, int64_t cols, Q8InputPair* out) {
  const int64_t blocks = cols / 32;
  for (int64_t b = 0; b < blocks; ++b) {
    Q8InputPair& p = out[b / 2];
    const int half = static_cast<int>(b % 2);
    QuantizeBlock(x + b * 32, p.q + 32 * half, p.bias + 8 * half, p.scale + 8 * half);
  }
  if (blocks % 2 != 0) {
    Q8InputPair& p = out[blocks / 2];
    std::memset(p.q + 32, 0, 32);
    std::memset(p.bias + 8, 0, 32);
    std::memset(p.scale + 8, 0, 32);
  }
}

void MatMulQ8RowsAvx512Vnni(const MatMulArgs& a, const Q8InputPair* in, int64_t pairs_per_input,
                            int64_t row_begin, int64_t row_end) {
  // One function per N, called through the table: each hot loop keeps its own code layout (with
  // N = 5..8 inlined into a switch here, batch-1 decode lost ~5 %).
  using RowsFn = void (*)(const MatMulArgs&, const Q8InputPair*, int64_t, int64_t, int64_t);
  static constexpr RowsFn kRows[] = {Q8Rows<1>, Q8Rows<2>, Q8Rows<3>, Q8Rows<4>,
                                     Q8Rows<5>, Q8Rows<6>, Q8Rows<7>, Q8Rows<8>};
  static_assert(sizeof(kRows) / sizeof(kRows[0]) == kQ8MaxRowsInputs);
  const int64_t n = a.n < 1 ? 1 : a.n > kQ8MaxRowsInputs ? kQ8MaxRowsInputs : a.n;
  kRows[n - 1](a, in, pairs_per_input, row_begin, row_end);
}

}  // namespace dte::internal
