#pragma once
// The RWKV-7 state update ("WKV7"), one token of one head, the per-token work of the forward
// pass that is not a weight product (src/model/rwkv7.cc).
//
// S is the head's N x N state, S[i][j] with i the value index and j the key index (row-major,
// as the state stores it); every vector has N = head_size floats:
//   sa[i]   = -sum_j S[i][j] * kk[j]
//   S[i][j] = S[i][j] * decay[j] + sa[i] * kk[j] * a[j] + v[i] * k[j]
//   y[i]    = sum_j S[i][j] * r[j]            (with the updated S)
// Wkv7Step runs the AVX-512 version when that family is active and N is a multiple of 16, else
// the scalar twin; the two differ only in summation order and FMA contraction (tests/kernels).
//
// Thread-safety: pure functions of their arguments; S must not be shared between callers.

#include <cstdint>

#include "kernels/cpu_features.h"

namespace dte {

void Wkv7Step(int64_t head_size, float* S, const float* r, const float* k, const float* v,
              const float* decay, const float* kk, const float* a, float* y);

// Asks for a head's N x N state (for writing) ahead of its Wkv7Step: at batch 1 every state
// comes from memory, the weights having streamed through the caches since the last token.
void PrefetchWkv7State(int64_t head_size, const float* S);

// Wkv7Step computed by one kernel family (kAvx2 runs the scalar twin), for tests and benchmarks.
// CHECKs IsaSupported(isa).
void Wkv7StepOn(KernelIsa isa, int64_t head_size, float* S, const float* r, const float* k,
                const float* v, const float* decay, const float* kk, const float* a, float* y);

namespace scalar {
// The reference: the formulas above, summed in order.
void Wkv7Step(int64_t head_size, float* S, const float* r, const float* k, const float* v,
              const float* decay, const float* kk, const float* a, float* y);
}  // namespace scalar

}  // namespace dte
