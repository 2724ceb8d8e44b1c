// AVX-512 versions of the out-of-line ops of vector_ops.h: 16 lanes, masked tails, float sums
// in four accumulators (the scalar twins sum in double; over a row of a few thousand the
// difference is far below the tests' 1e-5). Keeps the rules in matmul_internal.h.

// GCC 12 false positive inside its own intrinsics (see matmul_avx512.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "kernels/vector_ops_internal.h"

namespace dte::internal {
namespace {

constexpr int64_t kLanes = 16;

__mmask16 Tail(int64_t left) { return static_cast<__mmask16>((1u << left) - 1); }

// sum_i f(load(x + i)) over n floats, f applied to whole vectors (zeros in a masked tail must
// map to zero).
template <class F>
float Sum(const float* x, int64_t n, F f) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    for (int u = 0; u < 4; ++u) acc[u] = _mm512_add_ps(acc[u], f(_mm512_loadu_ps(x + i + u * kLanes)));
  }
  for (; i + kLanes <= n; i += kLanes) acc[0] = _mm512_add_ps(acc[0], f(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = Tail(n - i);
    acc[1] = _mm512_add_ps(acc[1], _mm512_maskz_mov_ps(m, f(_mm512_maskz_loadu_ps(m, x + i))));
  }
  return _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

// out = (x - mean) * inv * w + b, as LayerNorm's last pass.
void Normalize(const float* x, const float* w, const float* b, int64_t n, float mean, float inv,
               float* out) {
  const __m512 vm = _mm512_set1_ps(mean), vi = _mm512_set1_ps(inv);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm), vi);
    _mm512_storeu_ps(out + i, _mm512_fmadd_ps(t, _mm512_loadu_ps(w + i), _mm512_loadu_ps(b + i)));
  }
  if (i < n) {
    const __mmask16 m = Tail(n - i);
    const __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm), vi);
    _mm512_mask_storeu_ps(out + i, m,
                          _mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(m, w + i),
                                          _mm512_maskz_loadu_ps(m, b + i)));
  }
}

}  // namespace

void LayerNormAvx512(const float* x, const float* w, const float* b, int64_t n, float eps,
                     float* out) {
  const float mean = Sum(x, n, [](__m512 v) { return v; }) / static_cast<float>(n);
  const __m512 vm = _mm512_set1_ps(mean);
  // The masked tail loads zeros: (0 - mean)^2 must not count there, hence the mask in Sum.
  const float var = Sum(x, n, [vm](__m512 v) {
    const __m512 d = _mm512_sub_ps(v, vm);
    return _mm512_mul_ps(d, d);
  });
  // _mm_sqrt_ss, not std::sqrt: no inline library function may be compiled in this file.
  const float inv = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(var / static_cast<float>(n) + eps)));
  Normalize(x, w, b, n, mean, inv, out);
}

void GroupNormAvx512(const float* x, const float* w, const float* b, int64_t n, int64_t groups,
                     float eps, float* out) {
  const int64_t g = n / groups;
  for (int64_t k = 0; k < groups; ++k) {
    const int64_t o = k * g;
    LayerNormAvx512(x + o, w + o, b + o, g, eps, out + o);
  }
}

void LerpShiftAvx512(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(prev + i), xv);
    _mm512_storeu_ps(out + i, _mm512_fmadd_ps(d, _mm512_loadu_ps(mix + i), xv));
  }
  if (i < n) {
    const __mmask16 m = Tail(n - i);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, prev + i), xv);
    _mm512_mask_storeu_ps(out + i, m, _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, mix + i), xv));
  }
}

void MixShiftAvx512(const float* x, const float* prev, const float* mix, int64_t n, float* out) {
  const __m512 one = _mm512_set1_ps(1.0f);
  auto at = [&](__m512 xv, __m512 pv, __m512 mv) {
    return _mm512_fmadd_ps(xv, mv, _mm512_mul_ps(pv, _mm512_sub_ps(one, mv)));
  };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    _mm512_storeu_ps(out + i, at(_mm512_loadu_ps(x + i), _mm512_loadu_ps(prev + i),
                                 _mm512_loadu_ps(mix + i)));
  }
  if (i < n) {
    const __mmask16 m = Tail(n - i);
    _mm512_mask_storeu_ps(out + i, m,
                          at(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, prev + i),
                             _mm512_maskz_loadu_ps(m, mix + i)));
  }
}

}  // namespace dte::internal
