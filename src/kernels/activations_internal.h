#pragma once
// Seam between activations.cc (dispatch) and activations_avx512.cc (compiled for AVX-512 only;
// see the rules in matmul_internal.h). Same contracts as the functions of activations.h.

#include <cstdint>

namespace dte::internal {

void SigmoidAddAvx512(const float* x, const float* bias, int64_t n, float* out);
void ExpSigmoidAddAvx512(const float* x, const float* bias, float scale, int64_t n, float* out);

}  // namespace dte::internal
