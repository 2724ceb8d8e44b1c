#include "kernels/wkv7.h"

#include "base/check.h"
#include "kernels/wkv7_internal.h"

namespace dte {
namespace scalar {

void Wkv7Step(int64_t head_size, float* S, const float* r, const float* k, const float* v,
              const float* decay, const float* kk, const float* a, float* y) {
  const int64_t n = head_size;
  for (int64_t i = 0; i < n; ++i) {
    float* row = S + i * n;
    float sa = 0;
    for (int64_t j = 0; j < n; ++j) sa -= row[j] * kk[j];
    float acc = 0;
    for (int64_t j = 0; j < n; ++j) {
      row[j] = row[j] * decay[j] + sa * kk[j] * a[j] + v[i] * k[j];
      acc += row[j] * r[j];
    }
    y[i] = acc;
  }
}

}  // namespace scalar

namespace {

bool Avx512Fits(int64_t head_size) {
  return head_size % internal::kWkv7Lanes == 0 && head_size <= internal::kWkv7MaxHeadSize;
}

}  // namespace

void Wkv7StepOn(KernelIsa isa, int64_t head_size, float* S, const float* r, const float* k,
                const float* v, const float* decay, const float* kk, const float* a, float* y) {
  DTE_CHECK(IsaSupported(isa), "kernel family not supported by this CPU");
  if (isa == KernelIsa::kAvx512 && Avx512Fits(head_size)) {
    internal::Wkv7StepAvx512(head_size, S, r, k, v, decay, kk, a, y);
    return;
  }
  scalar::Wkv7Step(head_size, S, r, k, v, decay, kk, a, y);
}

void Wkv7Step(int64_t head_size, float* S, const float* r, const float* k, const float* v,
              const float* decay, const float* kk, const float* a, float* y) {
  static const bool avx512 = ActiveIsa() == KernelIsa::kAvx512;
  if (avx512 && Avx512Fits(head_size)) {
    internal::Wkv7StepAvx512(head_size, S, r, k, v, decay, kk, a, y);
    return;
  }
  scalar::Wkv7Step(head_size, S, r, k, v, decay, kk, a, y);
}

void PrefetchWkv7State(int64_t head_size, const float* S) {
  const int64_t floats = head_size * head_size;
  for (int64_t i = 0; i < floats; i += 16) __builtin_prefetch(S + i, 1, 3);
}

}  // namespace dte
