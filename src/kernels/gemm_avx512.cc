// The packed AVX-512 GEMM for products with many inputs (prefill chunks, batched decode).
// Layout and contract: matmul_internal.h. Compiled with the AVX-512 flags (incl. AVX512_BF16);
// the BF16 functions run only where the dispatcher saw avx512_bf16. Keeps the rules in
// matmul_internal.h: everything but the entry points is local to this file.
//
// Why this shape: the inputs are transposed once per call so that one vector holds one column
// of 16 inputs; the weights of a tile of 12 rows are decoded once per panel of columns (512 for
// F32, 1024 for BF16) into a buffer that stays in L1. The inner loop reads one input vector per
// group and broadcasts each row's weight from the panel, so per column (column pair for BF16)
// it does 2 vector loads + 12 broadcasts for 24 FMAs (dot products) on 24 accumulators
// (12 rows x 32 inputs), with no horizontal sums. Zen 5 issues about one broadcast per cycle,
// half the FMA rate, so fewer than two groups per tile would halve the speed: matmul.cc sends
// small batches elsewhere. The accumulators hold rows x inputs transposed; a 16x16 register
// transpose per group at the end of a panel turns them back into y's layout.

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/avx512_decode.h"
#include "kernels/matmul_internal.h"
#include "kernels/matmul_tiles.h"

namespace dte::internal {
namespace {

constexpr int kRows = static_cast<int>(kGemmRowTile);  // rows per register tile
// Columns per decoded panel: 12 x 512 floats or 12 x 1024 bf16 = 24 KiB, half of Zen 5's L1D.
// The bf16 panel spans a whole row of the common 768- and 1024-column matrices, so a tile's
// weights are one contiguous range of memory, which the hardware prefetcher follows well.
constexpr int64_t kPanelColsF32 = 512;
constexpr int64_t kPanelColsBf16 = 1024;
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

// Prefetches the weights of the next row tile (its columns of the current panel) into L2, a few
// lines every kPrefetchEvery steps of the micro kernels, so that decoding the next panel does not
// wait on memory and the prefetches do not queue up in bursts (weights are read once per
// product, mostly from DRAM: 8 % of prefill time and 14 % of batch-64 decode without this).
class NextTile {
 public:
  NextTile(const MatMulArgs& a, int64_t next_row, int64_t row_end, int64_t c0, int64_t kc)
      : row_bytes_(static_cast<int64_t>(a.row_bytes)) {
    rows_left_ = row_end - next_row < kRows ? row_end - next_row : kRows;
    const int64_t begin = static_cast<int64_t>(DTypeRowBytes(a.type, c0)) / 64 * 64;
    const int64_t end = static_cast<int64_t>(DTypeRowBytes(a.type, c0 + kc));
    line_ = first_ = reinterpret_cast<const char*>(a.w + next_row * row_bytes_ + begin);
    line_end_ = first_ + (end - begin);
    if (rows_left_ > 0) lines_ = rows_left_ * ((end - begin + 63) / 64);
  }
  int64_t lines() const { return lines_; }
  // Issues the next `count` prefetches (fewer at the end).
  void Fetch(int64_t count) {
    for (; count > 0 && rows_left_ > 0; --count) {
      _mm_prefetch(line_, _MM_HINT_T1);
      line_ += 64;
      if (line_ >= line_end_) {  // next row
        first_ += row_bytes_;
        line_end_ += row_bytes_;
        line_ = first_;
        --rows_left_;
      }
    }
  }

 private:
  int64_t row_bytes_;
  int64_t rows_left_ = 0, lines_ = 0;
  const char* first_ = nullptr;  // first line of the current row
  const char* line_ = nullptr;
  const char* line_end_ = nullptr;
};

constexpr int64_t kPrefetchEvery = 8;  // micro-kernel steps between two Fetch calls

// acc[r][g] lane l = sum_{c < kc} w[r * kPanelColsF32 + c] * x[g * gs + c * 16 + l].
// Every kPrefetchEvery columns, next.Fetch(fetch) prefetches weights of the next tile.
template <int R, int G>
void MicroF32(const float* w, const float* x, int64_t gs, int64_t kc, __m512 (&acc)[R][G],
              NextTile& next, int64_t fetch) {
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
  for (int64_t c0 = 0; c0 < kc; c0 += kPrefetchEvery) {
    next.Fetch(fetch);
    const int64_t c1 = kc - c0 < kPrefetchEvery ? kc : c0 + kPrefetchEvery;
    for (int64_t c = c0; c < c1; ++c) {
      __m512 xv[G];
      for (int g = 0; g < G; ++g) xv[g] = _mm512_load_ps(x + g * gs + c * kLanes);
#pragma GCC unroll 12
      for (int r = 0; r < R; ++r) {
        const __m512 wb = _mm512_set1_ps(w[r * kPanelColsF32 + c]);
        for (int g = 0; g < G; ++g) acc[r][g] = _mm512_fmadd_ps(wb, xv[g], acc[r][g]);
      }
    }
  }
}

// The same with bf16 pairs: w is a panel of bf16 pairs (row stride kPanelColsBf16 / 2 pairs).
template <int R, int G>
void MicroBf16(const uint32_t* w, const uint32_t* x, int64_t gs, int64_t pairs,
               __m512 (&acc)[R][G], NextTile& next, int64_t fetch) {
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
  for (int64_t p0 = 0; p0 < pairs; p0 += kPrefetchEvery) {
    next.Fetch(fetch);
    const int64_t p1 = pairs - p0 < kPrefetchEvery ? pairs : p0 + kPrefetchEvery;
    for (int64_t p = p0; p < p1; ++p) {
      __m512bh xv[G];
      for (int g = 0; g < G; ++g) {
        xv[g] = reinterpret_cast<__m512bh>(_mm512_load_si512(x + g * gs + p * kLanes));
      }
#pragma GCC unroll 12
      for (int r = 0; r < R; ++r) {
        const __m512bh wb = reinterpret_cast<__m512bh>(
            _mm512_set1_epi32(static_cast<int>(w[r * (kPanelColsBf16 / 2) + p])));
        for (int g = 0; g < G; ++g) acc[r][g] = _mm512_dpbf16_ps(acc[r][g], wb, xv[g]);
      }
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

// One panel of R rows (first row r0, columns [c0, c0 + kc)) times every input group, in
// pairs of groups (32 inputs) and a last single one.
template <int R, GemmPrecision P>
void Tile(const MatMulArgs& a, const GemmInputs& in, const void* panel, int64_t r0, int64_t c0,
          int64_t kc, bool accumulate, NextTile& next) {
  const int64_t gs = in.group_stride, groups = (a.n + kLanes - 1) / kLanes;
  const int64_t steps = P == GemmPrecision::kF32 ? kc : (kc + 1) / 2;  // columns or pairs
  // Spread the next tile's lines over every Fetch call of this tile's micro kernels.
  const int64_t calls = (groups + 1) / 2 * ((steps + kPrefetchEvery - 1) / kPrefetchEvery);
  const int64_t fetch = (next.lines() + calls - 1) / calls;
  auto micro = [&](auto& acc, int64_t g) {
    constexpr int G = static_cast<int>(sizeof(acc[0]) / sizeof(__m512));
    if constexpr (P == GemmPrecision::kF32) {
      const float* x = static_cast<const float*>(in.data) + c0 * kLanes + g * gs;
      MicroF32<R, G>(static_cast<const float*>(panel), x, gs, steps, acc, next, fetch);
    } else {
      const uint32_t* x = static_cast<const uint32_t*>(in.data) + (c0 / 2) * kLanes + g * gs;
      MicroBf16<R, G>(static_cast<const uint32_t*>(panel), x, gs, steps, acc, next, fetch);
    }
    StoreTile<R, G>(acc, a.y + g * kLanes * a.rows + r0, a.rows, a.n - g * kLanes, accumulate);
  };
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    __m512 acc[R][2];
    micro(acc, g);
  }
  if (g < groups) {
    __m512 acc[R][1];
    micro(acc, g);
  }
}

// Tile<R, P> for a row count known only at run time (1 <= rows <= kRows).
template <int R, GemmPrecision P>
void AnyTile(int rows, const MatMulArgs& a, const GemmInputs& in, const void* panel, int64_t r0,
             int64_t c0, int64_t kc, bool accumulate, NextTile& next) {
  if (rows == R) {
    Tile<R, P>(a, in, panel, r0, c0, kc, accumulate, next);
  } else if constexpr (R > 1) {
    AnyTile<R - 1, P>(rows, a, in, panel, r0, c0, kc, accumulate, next);
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

// out[0 .. kc / 2) = the bf16 pairs of F16 weights row[c0 .. c0 + kc) for kc a multiple of 32,
// converted in registers: exactly ToBf16Pairs of the F16Dec panel (f16 -> f32 is exact), without
// the round trip through the float panel (8 % of batch-64 decode time for the F16 head).
void F16ToBf16Pairs(const uint8_t* row, int64_t c0, int64_t kc, uint32_t* out) {
  const uint8_t* p = row + 2 * c0;
  for (int64_t c = 0; c < kc; c += 32) {
    const __m512 lo =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * c)));
    const __m512 hi =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * c + 32)));
    _mm512_store_si512(out + c / 2, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
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
  alignas(64) float panel[kRows * kPanelColsF32];  // F32 panel, or one decoded row for bf16
  alignas(64) uint32_t pairs[kRows * kPanelColsBf16 / 2];
  static_assert(kRows * kPanelColsF32 >= kPanelColsBf16);
  const bool f32 = in.precision == GemmPrecision::kF32;
  const int64_t panel_cols = f32 ? kPanelColsF32 : kPanelColsBf16;
  for (int64_t c0 = 0; c0 < a.cols; c0 += panel_cols) {
    const int64_t kc = a.cols - c0 < panel_cols ? a.cols - c0 : panel_cols;
    const bool accumulate = c0 > 0;
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kRows) {
      const int rows = static_cast<int>(row_end - r0 < kRows ? row_end - r0 : kRows);
      const uint8_t* w = a.w + r0 * static_cast<int64_t>(a.row_bytes);
      NextTile next(a, r0 + kRows, row_end, c0, kc);
      if (f32) {
        for (int r = 0; r < rows; ++r) {
          decode(w + r * a.row_bytes, c0, kc, panel + r * kPanelColsF32);
        }
        AnyTile<kRows, GemmPrecision::kF32>(rows, a, in, panel, r0, c0, kc, accumulate, next);
      } else {
        const bool direct = a.type == DType::kF16 && kc % 32 == 0;
        for (int r = 0; r < rows; ++r) {
          uint32_t* out = pairs + r * (kPanelColsBf16 / 2);
          if (direct) {
            F16ToBf16Pairs(w + r * a.row_bytes, c0, kc, out);
          } else {
            decode(w + r * a.row_bytes, c0, kc, panel);
            ToBf16Pairs(panel, kc, out);
          }
        }
        AnyTile<kRows, GemmPrecision::kBf16>(rows, a, in, pairs, r0, c0, kc, accumulate, next);
      }
    }
  }
}

}  // namespace dte::internal
