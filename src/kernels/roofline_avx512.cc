// AVX-512 compute loops of the roofline (see roofline.h): FP32 FMA and AVX512_BF16 dot products.
// Compiled with the AVX-512 flags (incl. -mavx512bf16); the BF16 loop runs only where the CPU
// has avx512_bf16 (the caller checks).
// GCC 12's _mm512_reduce_add_ps warns about an intentionally self-initialized variable.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "kernels/roofline.h"

namespace dte::internal {
namespace {

float Sum(const __m512* acc, int n) {
  __m512 total = acc[0];
  for (int i = 1; i < n; ++i) total = _mm512_add_ps(total, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, total);
  return lanes[0] + lanes[15];
}

}  // namespace

double FmaLoopAvx512(int64_t iterations, float* sink) {
  // 12 chains of 16 lanes cover a 4-cycle FMA latency on two 512-bit pipes.
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
  }
  *sink = Sum(acc, 12);
  return static_cast<double>(iterations) * 12 * 16 * 2;
}

double Bf16DotLoopAvx512(int64_t iterations, float* sink) {
  // vdpbf16ps: each of 16 fp32 lanes adds the products of 2 bf16 pairs (4 flops per lane).
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-6f), _mm512_set1_ps(2e-6f));
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  *sink = Sum(acc, 12);
  return static_cast<double>(iterations) * 12 * 16 * 4;
}

float SumAvx512(const float* x, int64_t n) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  for (int64_t i = 0; i < n; i += 64) {
    for (int k = 0; k < 4; ++k) acc[k] = _mm512_add_ps(acc[k], _mm512_loadu_ps(x + i + 16 * k));
  }
  return _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace dte::internal
