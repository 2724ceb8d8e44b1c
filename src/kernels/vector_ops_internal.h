#pragma once
// Seam between vector_ops.cc (dispatch) and vector_ops_avx512.cc (compiled for AVX-512 only; see
// the rules in matmul_internal.h). Same contracts as the functions of vector_ops.h.

#include <cstdint>

namespace dte::internal {

void LayerNormAvx512(const float* x, const float* w, const float* b, int64_t n, float eps,
                     float* out);
void GroupNormAvx512(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
                     float eps, float* out);
void LerpShiftAvx512(const float* x, const float* prev, const float* mix, int64_t n, float* out);
void MixShiftAvx512(const float* x, const float* prev, const float* mix, int64_t n, float* out);

}  // namespace dte::internal
