// AVX-512 versions of activations.h: 16 lanes, masked tails. exp(z) = 2^k * e^r with
// k = round(z / ln2), r = z - k ln2 (ln2 split in two for an exact reduction), e^r by its
// Taylor polynomial of degree 7 (|r| <= ln2/2: truncation below 6e-9 relative), and 2^k applied
// by vscalefps, which saturates to 0 and +inf without overflowing k. Keeps the rules in
// matmul_internal.h.

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "kernels/activations_internal.h"

namespace dte::internal {
namespace {

constexpr int64_t kLanes = 16;

__m512 Exp(__m512 z) {
  // Beyond these e^z is 0 or +inf in float; clamping keeps k small (scalef saturates anyway).
  // maxps/minps return their second operand when either is NaN: z goes second, so NaN stays.
  z = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), z));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(z, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), z);   // ln2 high part
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860682030941723212e-6f), r);  // ln2 low part
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

__m512 Sigmoid(__m512 z) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, Exp(_mm512_sub_ps(_mm512_setzero_ps(), z))));
}

// out = f(x + bias) over n floats; bias may be null.
template <class F>
void Map(const float* x, const float* bias, int64_t n, float* out, F f) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    __m512 z = _mm512_loadu_ps(x + i);
    if (bias != nullptr) z = _mm512_add_ps(z, _mm512_loadu_ps(bias + i));
    _mm512_storeu_ps(out + i, f(z));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 z = _mm512_maskz_loadu_ps(m, x + i);
    if (bias != nullptr) z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(m, bias + i));
    _mm512_mask_storeu_ps(out + i, m, f(z));
  }
}

}  // namespace

void SigmoidAddAvx512(const float* x, const float* bias, int64_t n, float* out) {
  Map(x, bias, n, out, [](__m512 z) { return Sigmoid(z); });
}

void ExpSigmoidAddAvx512(const float* x, const float* bias, float scale, int64_t n, float* out) {
  const __m512 s = _mm512_set1_ps(scale);
  Map(x, bias, n, out, [s](__m512 z) { return Exp(_mm512_mul_ps(s, Sigmoid(z))); });
}

}  // namespace dte::internal
