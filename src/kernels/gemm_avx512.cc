// The packed AVX-512 GEMM for products with many inputs (prefill chunks, batched decode).
// Layout and contract: matmul_internal.h. Compiled with the AVX-512 flags (incl. AVX512_BF16);
// the BF16 functions run only where the dispatcher saw avx512_bf16. Keeps the rules in
// matmul_internal.h: everything but the entry points is local to this file.
//
// Why this shape: the inputs are transposed once per call so that one vector holds one column
// of 16 inputs; the weights of a tile of 12 rows are decoded once per 512 columns into a panel
// that stays in L1. The inner loop then reads one input vector per group and broadcasts each
// row's weight straight from the panel into the FMA (a memory operand), so per column it does
// 2 vector loads + 12 broadcasts for 24 FMAs on 24 accumulators (12 rows x 32 inputs): FMA-
// bound, with no horizontal sums. The accumulators hold rows x inputs transposed; a 16x16
// register transpose per group at the end of a panel turns them back into y's layout.

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/avx512_decode.h"
#include "kernels/matmul_internal.h"
#include "kernels/matmul_tiles.h"

namespace dte::internal {
namespace {

constexpr int kRows = static_cast<int>(kGemmRowTile);  // rows per register tile
constexpr int64_t kPanelCols = 512;  // columns per decoded panel: 12 x 512 floats = 24 KiB
constexpr int kLanes = 16;
static_assert(kGemmGroup == kLanes);

// In place: v[j] lane i <- v[i] lane j.
void Transpose16(__m512 v[16]) {
  __m512 t[16];
  for (int p = 0; p < 8; ++p) {  // 32-bit interleave of row pairs
    t[2 * p] = _mm512_unpacklo_ps(v[2 * p], v[2 * p + 1]);
    t[2 * p + 1] = _mm512_unpackhi_ps(v[2 * p], v[2 * p + 1]);
  }
  __m512 s[16];  // s[4q + m], 128-bit lane L: rows 4q..4q+3 of column 4L + m
  for (int q = 0; q < 4; ++q) {
    const __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
    s[4 * q + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    s[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    s[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    s[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int m = 0; m < 4; ++m) {  // 4x4 transpose of the 128-bit lanes of s[m], s[4+m], ...
    const __m512 e0 = _mm512_shuffle_f32x4(s[m], s[4 + m], 0x44);
    const __m512 e1 = _mm512_shuffle_f32x4(s[m], s[4 + m], 0xee);
    const __m512 e2 = _mm512_shuffle_f32x4(s[8 + m], s[12 + m], 0x44);
    const __m512 e3 = _mm512_shuffle_f32x4(s[8 + m], s[12 + m], 0xee);
    v[m] = _mm512_shuffle_f32x4(e0, e2, 0x88);
    v[4 + m] = _mm512_shuffle_f32x4(e0, e2, 0xdd);
    v[8 + m] = _mm512_shuffle_f32x4(e1, e3, 0x88);
    v[12 + m] = _mm512_shuffle_f32x4(e1, e3, 0xdd);
  }
}

__mmask16 FirstLanes(int64_t count) {
  if (count <= 0) return 0;
  return count >= kLanes ? static_cast<__mmask16>(0xffff)
                         : static_cast<__mmask16>((1u << count) - 1);
}

// acc[r][g] lane l = sum_{c < kc} w[r * kPanelCols + c] * x[g * gs + c * 16 + l].
template <int R, int G>
void MicroF32(const float* w, const float* x, int64_t gs, int64_t kc, __m512 (&acc)[R][G]) {
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
  for (int64_t c = 0; c < kc; ++c) {
    __m512 xv[G];
    for (int g = 0; g < G; ++g) xv[g] = _mm512_load_ps(x + g * gs + c * kLanes);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 wb = _mm512_set1_ps(w[r * kPanelCols + c]);
      for (int g = 0; g < G; ++g) acc[r][g] = _mm512_fmadd_ps(wb, xv[g], acc[r][g]);
    }
  }
}

// The same with bf16 pairs: w is a panel of bf16 pairs (row stride kPanelCols / 2 pairs).
template <int R, int G>
void MicroBf16(const uint32_t* w, const uint32_t* x, int64_t gs, int64_t pairs,
               __m512 (&acc)[R][G]) {
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    __m512bh xv[G];
    for (int g = 0; g < G; ++g) {
      xv[g] = reinterpret_cast<__m512bh>(_mm512_load_si512(x + g * gs + p * kLanes));
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512bh wb = reinterpret_cast<__m512bh>(
          _mm512_set1_epi32(static_cast<int>(w[r * (kPanelCols / 2) + p])));
      for (int g = 0; g < G; ++g) acc[r][g] = _mm512_dpbf16_ps(acc[r][g], wb, xv[g]);
    }
  }
}

// y[i * rows + r] (+)= acc[r][i / 16] lane i % 16 for r < R, i < inputs; y at the tile's
// first row and first input.
template <int R, int G>
void StoreTile(__m512 (&acc)[R][G], float* y, int64_t rows, int64_t inputs, bool accumulate) {
  const __mmask16 row_mask = FirstLanes(R);
  for (int g = 0; g < G; ++g) {
    __m512 t[kLanes];
    for (int r = 0; r < kLanes; ++r) t[r] = r < R ? acc[r < R ? r : 0][g] : _mm512_setzero_ps();
    Transpose16(t);
    for (int l = 0; l < kLanes; ++l) {
      const int64_t i = g * kLanes + l;
      if (i >= inputs) break;
      float* dst = y + i * rows;
      __m512 v = t[l];
      if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(row_mask, dst));
      _mm512_mask_storeu_ps(dst, row_mask, v);
    }
  }
}

// One panel of R rows (first row r0, columns [c0, c0 + kc)) times every input group.
template <int R>
void TileF32(const MatMulArgs& a, const GemmInputs& in, const float* panel, int64_t r0,
             int64_t c0, int64_t kc, bool accumulate) {
  const float* x = static_cast<const float*>(in.data) + c0 * kLanes;
  const int64_t gs = in.group_stride, groups = (a.n + kLanes - 1) / kLanes;
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    __m512 acc[R][2];
    MicroF32<R, 2>(panel, x + g * gs, gs, kc, acc);
    StoreTile<R, 2>(acc, a.y + g * kLanes * a.rows + r0, a.rows, a.n - g * kLanes, accumulate);
  }
  if (g < groups) {
    __m512 acc[R][1];
    MicroF32<R, 1>(panel, x + g * gs, gs, kc, acc);
    StoreTile<R, 1>(acc, a.y + g * kLanes * a.rows + r0, a.rows, a.n - g * kLanes, accumulate);
  }
}

template <int R>
void TileBf16(const MatMulArgs& a, const GemmInputs& in, const uint32_t* panel, int64_t r0,
              int64_t c0, int64_t kc, bool accumulate) {
  const uint32_t* x = static_cast<const uint32_t*>(in.data) + (c0 / 2) * kLanes;
  const int64_t gs = in.group_stride, groups = (a.n + kLanes - 1) / kLanes;
  const int64_t pairs = (kc + 1) / 2;
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    __m512 acc[R][2];
    MicroBf16<R, 2>(panel, x + g * gs, gs, pairs, acc);
    StoreTile<R, 2>(acc, a.y + g * kLanes * a.rows + r0, a.rows, a.n - g * kLanes, accumulate);
  }
  if (g < groups) {
    __m512 acc[R][1];
    MicroBf16<R, 1>(panel, x + g * gs, gs, pairs, acc);
    StoreTile<R, 1>(acc, a.y + g * kLanes * a.rows + r0, a.rows, a.n - g * kLanes, accumulate);
  }
}

// Tile<R> for a row count known only at run time (1 <= rows <= kRows).
template <int R>
void AnyTileF32(int rows, const MatMulArgs& a, const GemmInputs& in, const float* panel,
                int64_t r0, int64_t c0, int64_t kc, bool accumulate) {
  if (rows == R) {
    TileF32<R>(a, in, panel, r0, c0, kc, accumulate);
  } else if constexpr (R > 1) {
    AnyTileF32<R - 1>(rows, a, in, panel, r0, c0, kc, accumulate);
  }
}

template <int R>
void AnyTileBf16(int rows, const MatMulArgs& a, const GemmInputs& in, const uint32_t* panel,
                 int64_t r0, int64_t c0, int64_t kc, bool accumulate) {
  if (rows == R) {
    TileBf16<R>(a, in, panel, r0, c0, kc, accumulate);
  } else if constexpr (R > 1) {
    AnyTileBf16<R - 1>(rows, a, in, panel, r0, c0, kc, accumulate);
  }
}

using DecodeFn = void (*)(const uint8_t* row, int64_t c0, int64_t kc, float* out);

DecodeFn DecoderFor(DType type) {
  switch (type) {
    case DType::kF32:
      return tiles::DecodePanel<Avx512, F32Dec>;
    case DType::kF16:
      return tiles::DecodePanel<Avx512, F16Dec>;
    case DType::kBF16:
      return tiles::DecodePanel<Avx512, BF16Dec>;
    case DType::kQ4_0:
      return tiles::DecodePanel<Avx512, Q4_0Dec>;
    case DType::kQ4_1:
      return tiles::DecodePanel<Avx512, Q4_1Dec>;
    case DType::kQ5_0:
      return tiles::DecodePanel<Avx512, Q5_0Dec>;
    case DType::kQ5_1:
      return tiles::DecodePanel<Avx512, Q5_1Dec>;
    case DType::kQ8_0:
      return tiles::DecodePanel<Avx512, Q8_0Dec>;
  }
  return nullptr;
}

// out[0 .. ceil(kc / 2)) = the bf16 pairs of in[0 .. kc) (round to nearest even; an odd
// count is padded with a zero). in must hold kc floats rounded up to a multiple of 32.
void ToBf16Pairs(float* in, int64_t kc, uint32_t* out) {
  const int64_t padded = (kc + 31) / 32 * 32;
  for (int64_t c = kc; c < padded; ++c) in[c] = 0.0f;
  for (int64_t c = 0; c < padded; c += 32) {
    const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_load_ps(in + c + 16), _mm512_load_ps(in + c));
    _mm512_store_si512(out + c / 2, reinterpret_cast<__m512i>(b));
  }
}

}  // namespace

void PackInputsAvx512(GemmPrecision precision, const float* x, int64_t n, int64_t cols,
                      int64_t group_stride, int64_t g0, int64_t g1, void* out) {
  for (int64_t g = g0; g < g1; ++g) {
    const int64_t valid = n - g * kLanes < kLanes ? n - g * kLanes : kLanes;
    const float* xg = x + g * kLanes * cols;
    float* o = static_cast<float*>(out) + g * group_stride;
    // Column blocks: 16 floats, or 32 floats = 16 bf16 pairs.
    const int64_t block = precision == GemmPrecision::kF32 ? kLanes : 2 * kLanes;
    const int64_t blocks = group_stride / (kLanes * kLanes);
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * block;
      __m512 v[kLanes];
      for (int i = 0; i < kLanes; ++i) {
        if (i >= valid) {
          v[i] = _mm512_setzero_ps();
          continue;
        }
        const float* src = xg + i * cols + c0;
        const __m512 lo = _mm512_maskz_loadu_ps(FirstLanes(cols - c0), src);
        if (precision == GemmPrecision::kF32) {
          v[i] = lo;
        } else {
          const __m512 hi = _mm512_maskz_loadu_ps(FirstLanes(cols - c0 - kLanes), src + kLanes);
          v[i] = reinterpret_cast<__m512>(_mm512_cvtne2ps_pbh(hi, lo));
        }
      }
      Transpose16(v);
      for (int j = 0; j < kLanes; ++j) _mm512_store_ps(o + (b * kLanes + j) * kLanes, v[j]);
    }
  }
}

void GemmRowsAvx512(const MatMulArgs& a, const GemmInputs& in, int64_t row_begin,
                    int64_t row_end) {
  const DecodeFn decode = DecoderFor(a.type);
  alignas(64) float panel[kRows * kPanelCols];
  alignas(64) uint32_t pairs[kRows * kPanelCols / 2];
  for (int64_t c0 = 0; c0 < a.cols; c0 += kPanelCols) {
    const int64_t kc = a.cols - c0 < kPanelCols ? a.cols - c0 : kPanelCols;
    const bool accumulate = c0 > 0;
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kRows) {
      const int rows = static_cast<int>(row_end - r0 < kRows ? row_end - r0 : kRows);
      const uint8_t* w = a.w + r0 * static_cast<int64_t>(a.row_bytes);
      if (in.precision == GemmPrecision::kF32) {
        for (int r = 0; r < rows; ++r) decode(w + r * a.row_bytes, c0, kc, panel + r * kPanelCols);
        AnyTileF32<kRows>(rows, a, in, panel, r0, c0, kc, accumulate);
      } else {
        for (int r = 0; r < rows; ++r) {
          decode(w + r * a.row_bytes, c0, kc, panel);
          ToBf16Pairs(panel, kc, pairs + r * (kPanelCols / 2));
        }
        AnyTileBf16<kRows>(rows, a, in, pairs, r0, c0, kc, accumulate);
      }
    }
  }
}

}  // namespace dte::internal
