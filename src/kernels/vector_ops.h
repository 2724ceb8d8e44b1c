#pragma once
// Small element-wise and normalization ops of the forward pass. Scalar code the compiler
// vectorizes; the heavy work is in matmul.h.

#include <cmath>
#include <cstdint>

namespace dte {

// out = (x - mean) / sqrt(var + eps) * w + b over n elements. out may alias x.
void LayerNorm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out);

// Normalizes each of `groups` consecutive groups of x separately (GroupNorm over heads),
// then applies the per-channel w and b. out may alias x.
void GroupNorm(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
               float eps, float* out);

inline float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float Silu(float x) { return x * Sigmoid(x); }
inline float ReluSquare(float x) { return x > 0 ? x * x : 0.0f; }

// out[i] = x[i] + (prev[i] - x[i]) * mix[i]     (RWKV token shift, v6/v7 "maa" form)
void LerpShift(const float* x, const float* prev, const float* mix, int64_t n, float* out);
// out[i] = x[i] * mix[i] + prev[i] * (1 - mix[i])  (v4/v5 "time_mix" form)
void MixShift(const float* x, const float* prev, const float* mix, int64_t n, float* out);

// Index of the largest value (first on ties).
int64_t ArgMax(const float* x, int64_t n);

}  // namespace dte
