#pragma once
// Weight-matrix products, the hot path of the forward pass.
//
// A weight matrix is stored row-major as ggml stores it: `rows` output features, each row the
// `cols` input weights contiguous (ggml shape {cols, rows}). Every kernel has a scalar reference
// (namespace scalar) and dispatched fast versions chosen once at start-up by CPU features
// (see cpu_features.h); tests compare them.
//
// Thread-safety: pure functions of their arguments; `pool` (may be null) splits the output rows.

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/dtype.h"

namespace dte {

struct MatrixView {
  DType type = DType::kF32;
  int64_t rows = 0;  // output features
  int64_t cols = 0;  // input features (contiguous)
  const void* data = nullptr;

  size_t row_bytes() const { return DTypeRowBytes(type, cols); }
  const uint8_t* row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_bytes();
  }
};

// y[r] = sum_c W[r][c] * x[c]                    (x: cols floats, y: rows floats)
void MatVec(const MatrixView& w, const float* x, float* y, ThreadPool* pool);

// Y[i][r] = sum_c W[r][c] * X[i][c], 0 <= i < n  (X: n x cols, Y: n x rows, row-major)
// Reads each weight once for all n inputs: prefill chunks and batched decode.
void MatMul(const MatrixView& w, const float* x, int64_t n, float* y, ThreadPool* pool);

// One product of a MatMulMany call: y = W x for the call's n inputs (x: n x cols, y: n x rows).
struct MatMulTask {
  MatrixView w;
  const float* x = nullptr;
  float* y = nullptr;
};

// Independent products with the same number of inputs, each computed exactly as MatMul
// computes it (same kernels and precision, bit-identical results). With at most
// kManyMaxInputs inputs, where the AVX-512 kernels stream weight rows and a product takes a few
// microseconds, all their rows are split over the pool in one parallel loop: one hand-off
// instead of one per product. With more, one MatMul after another.
void MatMulMany(std::span<const MatMulTask> tasks, int64_t n, ThreadPool* pool);
inline constexpr int64_t kManyMaxInputs = 8;

// The numerics of a product.
//   kF32:  weights dequantized exactly, inputs and sums in float.
//   kBf16: the dequantized weights and the inputs rounded to bfloat16 (8 significant bits,
//          round to nearest even), each product exact, summed in float (AVX512_BF16
//          dot products: twice the multiply-adds per instruction of float FMAs). Each product
//          carries a relative error up to ~2^-8; docs/performance.md measures the logit error.
//   kQ8:   Q8_0 weights only: each input quantized per block of 32 columns like Q8_0 itself
//          (d = amax / 127, q = x / d rounded to nearest even, in [-127, 127]), then per block
//          the exact integer sum of w_q * x_q (AVX512_VNNI vpdpbusd), times d_w * d_x, summed
//          in float. The error is the inputs' rounding: per column at most d_x / 2 = amax / 254
//          of its block; docs/performance.md measures the logit error.
enum class MatMulPrecision { kF32, kBf16, kQ8 };

// Most inputs for which the dispatched MatMul uses kQ8 (Q8_0 weights, where ActiveVnniPolicy()
// allows it); MatVec is n = 1. Up to here the product streams each weight row once, and kQ8
// decodes them in a third of the instructions of kF32; with more the row tiles / GEMM reuse each
// decoded weight across inputs anyway (0.1B Q8_0, 2 threads, against the float row tiles: batch
// 5 +54 %, 8 +18 %; 10 / 12 / 15 gained 9 / 4 / 0 %, so it stops at 8).
inline constexpr int64_t kQ8MaxInputs = 8;

// Fewest inputs for which the dispatched MatMul uses kBf16 (where ActiveBf16Policy() allows
// it for the weight type); fewer inputs, and MatVec, always use kF32. With fewer the bf16 GEMM
// is no faster than the float kernels (one broadcast per dot product), so bf16 would cost
// accuracy for nothing.
inline constexpr int64_t kBf16MinInputs = 16;

// The precision the dispatched MatMul uses for `type` and n inputs.
MatMulPrecision ActiveMatMulPrecision(DType type, int64_t n);

// MatMul computed by one kernel family instead of ActiveIsa()'s, in kF32, for tests and
// benchmarks that compare them. CHECKs IsaSupported(isa). kScalar is the scalar twin split over
// the pool. Fast kernels differ from the scalar twin only in summation order (and by one
// rounding in the Q4_1/Q5_1 weight q*d+m, fused there): weights are dequantized exactly,
// activations stay f32.
void MatMulOn(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
              ThreadPool* pool);

// The same in kBf16: kScalar is scalar::MatMulBf16 split over the pool, kAvx512 the AVX512_BF16
// GEMM (CHECKs Bf16Supported()); there is no AVX2 version (CHECK). Whatever ActiveBf16Policy().
void MatMulBf16On(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
                  ThreadPool* pool);

// The same in kQ8 (CHECKs w.type == Q8_0 and n <= kQ8MaxInputs): kScalar is scalar::MatMulQ8
// split over the pool, kAvx512 the AVX512_VNNI kernel (CHECKs VnniSupported()). Whatever
// ActiveVnniPolicy().
void MatMulQ8On(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
                ThreadPool* pool);

namespace scalar {
// Reference versions: dequantize a row, then a plain float dot product (double accumulator-free,
// summed in order). Used by tests as the twin of every fast kernel.
void MatVec(const MatrixView& w, const float* x, float* y);
void MatMul(const MatrixView& w, const float* x, int64_t n, float* y);
// The twin of the kBf16 kernels: weights and inputs rounded to bf16 first, then as MatMul.
void MatMulBf16(const MatrixView& w, const float* x, int64_t n, float* y);
// The twin of the kQ8 kernels (Q8_0 weights, any n): inputs quantized per block, an exact
// integer sum per block, float(sum) * (d_w * d_x) added in block order.
void MatMulQ8(const MatrixView& w, const float* x, int64_t n, float* y);
}  // namespace scalar

}  // namespace dte
