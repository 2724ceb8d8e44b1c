#pragma once
// Internal seam between matmul.cc (dispatch, threading) and the per-ISA kernel files
// matmul_avx2.cc / matmul_avx512.cc / gemm_avx512.cc. Not for use outside src/kernels and its
// tests.
//
// The ISA files are compiled with -mavx2/-mavx512* (see CMakeLists.txt), so they must not
// define or instantiate anything another file could share: an inline function or template
// compiled there (std::function, std::vector, MatrixView::row, Fp16ToFloat, ...) may be the
// copy the linker keeps for every caller, and would fault on an older CPU. So they include
// only this header, dtype.h and <immintrin.h>, keep their helpers in an anonymous namespace,
// and take the plain struct below; all threading stays in matmul.cc.

#include <cstddef>
#include <cstdint>

#include "kernels/dtype.h"

namespace dte::internal {

// One product Y[i][r] = sum_c W[r][c] * X[i][c] for i < n, rows [row_begin, row_end).
struct MatMulArgs {
  DType type = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;        // DTypeRowBytes(type, cols)
  const uint8_t* w = nullptr;  // row 0 of the weights
  const float* x = nullptr;    // n x cols
  int64_t n = 0;
  float* y = nullptr;  // n x rows
  // Rows [row_end, stream_end) will probably be read next by the same thread: the streaming
  // kernels' prefetch may run on into them. At most `rows`; below row_end: none.
  int64_t stream_end = 0;
};

// Computes rows [row_begin, row_end) of the product for every input. Call only when the CPU
// supports the ISA (IsaSupported) and the type (cols a multiple of the block size).
void MatMulRowsAvx2(const MatMulArgs& a, int64_t row_begin, int64_t row_end);
void MatMulRowsAvx512(const MatMulArgs& a, int64_t row_begin, int64_t row_end);

// The packed GEMM (gemm_avx512.cc), for many inputs. The inputs are first packed, transposed,
// into groups of kGemmGroup: group g holds inputs [16g, 16g + 16) (missing ones zero), laid
// out so that one 64-byte vector holds one column (F32) or one column pair (BF16) of all 16:
//   kF32:  float    at data + g * group_stride + c * 16 + lane,        c < cols rounded up to 16
//   kBf16: uint32_t at data + g * group_stride + (c / 2) * 16 + lane,  holding the bf16 pair
//          (x[c], x[c + 1]) (low half first), c / 2 < ceil(cols / 2) rounded up to 16.
// group_stride counts 4-byte elements. The weights are decoded per tile of rows into a small
// panel (F32, or BF16 rounded to nearest even) and multiplied into every group with broadcast
// FMAs (F32) or AVX512_BF16 pair dot products (BF16), accumulating in float.
enum class GemmPrecision { kF32, kBf16 };
inline constexpr int64_t kGemmGroup = 16;

struct GemmInputs {
  GemmPrecision precision = GemmPrecision::kF32;
  const void* data = nullptr;  // 64-byte aligned
  int64_t group_stride = 0;    // 4-byte elements from one group to the next
};

// Packs groups [g0, g1) of x (n x cols) into out (the layout above). kBf16 needs AVX512_BF16.
void PackInputsAvx512(GemmPrecision precision, const float* x, int64_t n, int64_t cols,
                      int64_t group_stride, int64_t g0, int64_t g1, void* out);
// Rows [row_begin, row_end) of a.y for every input, from inputs packed by PackInputsAvx512
// (a.x is not read). Row ranges that start at a multiple of kGemmRowTile run fastest.
void GemmRowsAvx512(const MatMulArgs& a, const GemmInputs& in, int64_t row_begin,
                    int64_t row_end);
inline constexpr int64_t kGemmRowTile = 12;

// Inputs quantized for the int8 products of Q8_0 weights (matmul.h, MatMulPrecision::kQ8), one
// record per pair of 32-column blocks (columns [64p, 64p + 64)); each block b has the scale
// d_b = amax_b / 127 (amax_b = max |x| over the block) and q[c] = round-to-nearest-even(x[c] *
// (127 / amax_b)) in [-127, 127] (0 for a block of zeros). With an odd number of blocks the
// last record's second half is zero (q, bias and scale).
//   bias[j] = -128 * (q[4j] + q[4j+1] + q[4j+2] + q[4j+3]): the kernels multiply the weights
//   offset to unsigned (w + 128, i.e. w ^ 0x80) by q with vpdpbusd, accumulating onto bias,
//   which leaves exactly sum w * q per group of four columns.
struct alignas(64) Q8InputPair {
  int8_t q[64];
  int32_t bias[16];
  float scale[16];  // d of the pair's first block in lanes 0..7, of its second in 8..15
};
static_assert(sizeof(Q8InputPair) == 192);

// Quantizes x (cols floats, a multiple of 32) into (cols / 32 + 1) / 2 records at out.
void QuantizeInputsQ8Reference(const float* x, int64_t cols, Q8InputPair* out);
// The same, vectorized (AVX-512 BW + VNNI); bit-identical to the reference.
void QuantizeInputsQ8Avx512(const float* x, int64_t cols, Q8InputPair* out);
// Rows [row_begin, row_end) of a.y for a.n <= kQ8MaxRowsInputs inputs (a.type Q8_0; a.x is not
// read): input i's records start at in + i * pairs_per_input. Per block: the exact int32 sum of w * q
// (vpdpbusd), converted to float, times d_w * d_x, accumulated in float per lane.
void MatMulQ8RowsAvx512Vnni(const MatMulArgs& a, const Q8InputPair* in, int64_t pairs_per_input,
                            int64_t row_begin, int64_t row_end);
inline constexpr int64_t kQ8MaxRowsInputs = 8;

// The pieces of a kQ8 product, for callers that schedule rows themselves (matmul_q8.cc,
// matmul.cc's MatMulMany); `vectorized` picks the AVX512_VNNI kernels, else the scalar twin.
// Records per input of a.cols columns.
int64_t Q8PairsPerInput(int64_t cols);
// Quantizes a.n inputs a.x into in (a.n * Q8PairsPerInput(a.cols) records).
void QuantizeQ8Inputs(bool vectorized, const MatMulArgs& a, Q8InputPair* in);
// Rows [r0, r1) of a.y for any a.n, from inputs quantized by QuantizeQ8Inputs.
void Q8ProductRows(bool vectorized, const MatMulArgs& a, const Q8InputPair* in, int64_t r0,
                   int64_t r1);

}  // namespace dte::internal
