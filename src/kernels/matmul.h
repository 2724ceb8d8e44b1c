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

// MatMul computed by one kernel family instead of ActiveIsa()'s, for tests and benchmarks that
// compare them. CHECKs IsaSupported(isa). kScalar is the scalar twin split over the pool.
// Fast kernels differ from the scalar twin only in summation order (and by one rounding in the
// Q4_1/Q5_1 weight q*d+m, fused there): weights are dequantized exactly, activations stay f32.
void MatMulOn(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
              ThreadPool* pool);

namespace scalar {
// Reference versions: dequantize a row, then a plain float dot product (double accumulator-free,
// summed in order). Used by tests as the twin of every fast kernel.
void MatVec(const MatrixView& w, const float* x, float* y);
void MatMul(const MatrixView& w, const float* x, int64_t n, float* y);
}  // namespace scalar

}  // namespace dte
