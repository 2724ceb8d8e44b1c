#include "kernels/vector_ops.h"

#include "base/check.h"
#include "kernels/vector_ops_internal.h"

namespace dte {
namespace scalar {

void LayerNorm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double var = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = x[i] - mean;
    var += d * d;
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - mean) * inv * w[i] + b[i];
}

void GroupNorm(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
               float eps, float* out) {
  const int64_t g = n / groups;
  for (int64_t k = 0; k < groups; ++k) {
    const int64_t o = k * g;
    LayerNorm(x + o, w + o, b + o, g, eps, out + o);
  }
}

void LerpShift(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] + (prev[i] - x[i]) * mix[i];
}

void MixShift(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * mix[i] + prev[i] * (1.0f - mix[i]);
}

}  // namespace scalar

namespace {

constexpr VectorOps kScalarOps = {scalar::LayerNorm, scalar::GroupNorm, scalar::LerpShift,
                                  scalar::MixShift};
constexpr VectorOps kAvx512Ops = {internal::LayerNormAvx512, internal::GroupNormAvx512,
                                  internal::LerpShiftAvx512, internal::MixShiftAvx512};

const VectorOps& Active() {
  static const VectorOps& ops = VectorOpsFor(ActiveIsa());
  return ops;
}

}  // namespace

const VectorOps& VectorOpsFor(KernelIsa isa) {
  DTE_CHECK(IsaSupported(isa), "kernel family not supported by this CPU");
  return isa == KernelIsa::kAvx512 ? kAvx512Ops : kScalarOps;
}

void LayerNorm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out) {
  Active().layer_norm(x, w, b, n, eps, out);
}

void GroupNorm(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
               float eps, float* out) {
  Active().group_norm(x, w, b, n, groups, eps, out);
}

void LerpShift(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  Active().lerp_shift(x, prev, mix, n, out);
}

void MixShift(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  Active().mix_shift(x, prev, mix, n, out);
}

int64_t ArgMax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

}  // namespace dte
