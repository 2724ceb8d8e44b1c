#include "kernels/vector_ops.h"

namespace dte {

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
    double sum = 0;
    for (int64_t i = 0; i < g; ++i) sum += x[o + i];
    const float mean = static_cast<float>(sum / static_cast<double>(g));
    double var = 0;
    for (int64_t i = 0; i < g; ++i) {
      double d = x[o + i] - mean;
      var += d * d;
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(g) + eps));
    for (int64_t i = 0; i < g; ++i) out[o + i] = (x[o + i] - mean) * inv * w[o + i] + b[o + i];
  }
}

void LerpShift(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] + (prev[i] - x[i]) * mix[i];
}

void MixShift(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * mix[i] + prev[i] * (1.0f - mix[i]);
}

int64_t ArgMax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

}  // namespace dte
