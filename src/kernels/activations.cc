#include "kernels/activations.h"

#include <cmath>

#include "base/check.h"
#include "kernels/activations_internal.h"

namespace dte {
namespace scalar {

void SigmoidAdd(const float* x, const float* bias, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float z = bias == nullptr ? x[i] : x[i] + bias[i];
    out[i] = 1.0f / (1.0f + std::exp(-z));
  }
}

void ExpSigmoidAdd(const float* x, const float* bias, float scale, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float z = bias == nullptr ? x[i] : x[i] + bias[i];
    out[i] = std::exp(scale * (1.0f / (1.0f + std::exp(-z))));
  }
}

}  // namespace scalar

namespace {

constexpr ActivationOps kScalarOps = {scalar::SigmoidAdd, scalar::ExpSigmoidAdd};
constexpr ActivationOps kAvx512Ops = {internal::SigmoidAddAvx512, internal::ExpSigmoidAddAvx512};

const ActivationOps& Active() {
  static const ActivationOps& ops = ActivationOpsFor(ActiveIsa());
  return ops;
}

}  // namespace

const ActivationOps& ActivationOpsFor(KernelIsa isa) {
  DTE_CHECK(IsaSupported(isa), "kernel family not supported by this CPU");
  return isa == KernelIsa::kAvx512 ? kAvx512Ops : kScalarOps;
}

void SigmoidAdd(const float* x, const float* bias, int64_t n, float* out) {
  Active().sigmoid_add(x, bias, n, out);
}

void ExpSigmoidAdd(const float* x, const float* bias, float scale, int64_t n, float* out) {
  Active().exp_sigmoid_add(x, bias, scale, n, out);
}

}  // namespace dte
