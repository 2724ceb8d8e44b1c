#pragma once
// Seam between wkv7.cc (dispatch) and wkv7_avx512.cc (compiled for AVX-512 only; see the rules
// in matmul_internal.h). Not for use outside src/kernels and its tests.

#include <cstdint>

namespace dte::internal {

inline constexpr int64_t kWkv7Lanes = 16;
inline constexpr int64_t kWkv7MaxHeadSize = 1024;  // bounds a stack buffer in the kernel

// Wkv7Step for head_size a multiple of kWkv7Lanes, at most kWkv7MaxHeadSize.
void Wkv7StepAvx512(int64_t head_size, float* S, const float* r, const float* k, const float* v,
                    const float* decay, const float* kk, const float* a, float* y);

}  // namespace dte::internal
