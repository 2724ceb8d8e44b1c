#pragma once
// Internal seam between matmul.cc (dispatch, threading) and the per-ISA kernel files
// matmul_avx2.cc / matmul_avx512.cc. Not for use outside src/kernels and its tests.
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
};

// Computes rows [row_begin, row_end) of the product for every input. Call only when the CPU
// supports the ISA (IsaSupported) and the type (cols a multiple of the block size).
void MatMulRowsAvx2(const MatMulArgs& a, int64_t row_begin, int64_t row_end);
void MatMulRowsAvx512(const MatMulArgs& a, int64_t row_begin, int64_t row_end);

}  // namespace dte::internal
