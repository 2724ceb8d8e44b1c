#pragma once
// Small element-wise and normalization ops of the forward pass; the heavy work is in matmul.h.
// The out-of-line ones dispatch once to AVX-512 versions (vector_ops_avx512.cc) when that family
// is active (cpu_features.h), and have scalar twins (namespace scalar) the tests compare with;
// they differ in summation order and FMA contraction only. The inline ones are written so that
// loops over them vectorize.
//
// Thread-safety: pure functions of their arguments.

#include <bit>
#include <cmath>
#include <cstdint>

#include "kernels/cpu_features.h"

namespace dte {

// out = (x - mean) / sqrt(var + eps) * w + b over n elements. out may alias x.
void LayerNorm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out);

// Normalizes each of `groups` consecutive groups of x separately (GroupNorm over heads),
// then applies the per-channel w and b. out may alias x.
void GroupNorm(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
               float eps, float* out);

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float Silu(float x) { return x * Sigmoid(x); }
// max(x, 0)^2 with bit operations, so loops over it vectorize: a float comparison may trap, so
// the compiler keeps it a compare and a jump, and on a random mix of signs that jump is
// mispredicted half the time (it was 7 % of prefill time). Clears every value with the sign
// bit set (negatives, -0); a NaN stays NaN.
inline float ReluSquare(float x) {
  const auto bits = std::bit_cast<uint32_t>(x);
  const auto negative = static_cast<uint32_t>(static_cast<int32_t>(bits) >> 31);  // all ones
  const float p = std::bit_cast<float>(bits & ~negative);
  return p * p;
}

// out[i] = x[i] + (prev[i] - x[i]) * mix[i]     (RWKV token shift, v6/v7 "maa" form)
void LerpShift(const float* x, const float* prev, const float* mix, int64_t n, float* out);
// out[i] = x[i] * mix[i] + prev[i] * (1 - mix[i])  (v4/v5 "time_mix" form)
void MixShift(const float* x, const float* prev, const float* mix, int64_t n, float* out);

// Index of the largest value (first on ties).
int64_t ArgMax(const float* x, int64_t n);

// The out-of-line ops of one kernel family, for tests and benchmarks (kAvx2 has the scalar
// ones). CHECKs IsaSupported(isa).
struct VectorOps {
  void (*layer_norm)(const float* x, const float* w, const float* b, int64_t n, float eps,
                     float* out);
  void (*group_norm)(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
                     float eps, float* out);
  void (*lerp_shift)(const float* x, const float* prev, const float* mix, int64_t n, float* out);
  void (*mix_shift)(const float* x, const float* prev, const float* mix, int64_t n, float* out);
};
const VectorOps& VectorOpsFor(KernelIsa isa);

namespace scalar {
// The references: LayerNorm/GroupNorm sum in double, two passes (mean, then variance).
void LayerNorm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out);
void GroupNorm(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
               float eps, float* out);
void LerpShift(const float* x, const float* prev, const float* mix, int64_t n, float* out);
void MixShift(const float* x, const float* prev, const float* mix, int64_t n, float* out);
}  // namespace scalar

}  // namespace dte
