#pragma once
// Element-wise activations over arrays (the gates of RWKV-7's time mixing), dispatched once to
// AVX-512 versions (activations_avx512.cc) when that family is active, with scalar twins the
// tests compare against. The AVX-512 versions compute exp with a range reduction to
// [-ln2/2, ln2/2] and a degree-7 polynomial (about 1 ulp; std::exp is correctly rounded or
// within 1 ulp), then divide exactly, so they differ from the twins by a few ulp.
//
// Thread-safety: pure functions of their arguments.

#include <cstdint>

#include "kernels/cpu_features.h"

namespace dte {

// out[i] = 1 / (1 + exp(-(x[i] + bias[i]))); bias may be null (then 0). out may alias x.
void SigmoidAdd(const float* x, const float* bias, int64_t n, float* out);
// out[i] = exp(scale * sigmoid(x[i] + bias[i])) (RWKV-7's decay, scale = -exp(-0.5)).
// out may alias x.
void ExpSigmoidAdd(const float* x, const float* bias, float scale, int64_t n, float* out);

// The ops of one kernel family, for tests and benchmarks (kAvx2 has the scalar ones). CHECKs
// IsaSupported(isa).
struct ActivationOps {
  void (*sigmoid_add)(const float* x, const float* bias, int64_t n, float* out);
  void (*exp_sigmoid_add)(const float* x, const float* bias, float scale, int64_t n, float* out);
};
const ActivationOps& ActivationOpsFor(KernelIsa isa);

namespace scalar {
void SigmoidAdd(const float* x, const float* bias, int64_t n, float* out);
void ExpSigmoidAdd(const float* x, const float* bias, float scale, int64_t n, float* out);
}  // namespace scalar

}  // namespace dte
