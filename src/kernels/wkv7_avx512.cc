// AVX-512 version of Wkv7Step (wkv7.h). The state rows are the vectors (16 keys per register),
// so both per-row dot products (with kk, then with r) end in a horizontal sum; those are done
// 16 rows at a time by one transpose-and-add tree (Sum16), which costs ~3 instructions per row
// instead of ~8 for a separate reduction each. Keeps the rules in matmul_internal.h.

// GCC 12 false positive inside its own intrinsics (see matmul_avx512.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "kernels/wkv7_internal.h"

namespace dte::internal {
namespace {

constexpr int kLanes = static_cast<int>(kWkv7Lanes);

// Lane i of the result = the sum of the 16 lanes of p[i].
__m512 Sum16(const __m512 p[16]) {
  __m512 t[8];  // t[q], per 128-bit lane: [p2q 0+2, p2q+1 0+2, p2q 1+3, p2q+1 1+3]
  for (int q = 0; q < 8; ++q) {
    t[q] = _mm512_add_ps(_mm512_unpacklo_ps(p[2 * q], p[2 * q + 1]),
                         _mm512_unpackhi_ps(p[2 * q], p[2 * q + 1]));
  }
  __m512 u[4];  // u[q], per 128-bit lane: that lane's sums of p[4q .. 4q+3]
  for (int q = 0; q < 4; ++q) {
    const __m512d a = _mm512_castps_pd(t[2 * q]), b = _mm512_castps_pd(t[2 * q + 1]);
    u[q] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  // x[h]: 128-bit lanes [p(8h..8h+3) lanes 0-1 half, .. 2-3 half, p(8h+4..) 0-1, .. 2-3]
  __m512 x[2];
  for (int h = 0; h < 2; ++h) {
    x[h] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * h], u[2 * h + 1], 0x88),
                         _mm512_shuffle_f32x4(u[2 * h], u[2 * h + 1], 0xdd));
  }
  return _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], 0x88),
                       _mm512_shuffle_f32x4(x[0], x[1], 0xdd));
}

// The step for N = 16 * B. The per-column vectors (kk, kk * a, k, decay, r: 5 * B registers)
// stay in registers for all N rows when B is small, so each row costs its own loads and stores
// only.
template <int B>
void Step(float* S, const float* r, const float* k, const float* v, const float* decay,
          const float* kk, const float* a, float* y) {
  constexpr int64_t n = B * kLanes;
  __m512 kkv[B], kkav[B], kv[B], dv[B], rv[B];
  for (int b = 0; b < B; ++b) {
    kkv[b] = _mm512_loadu_ps(kk + b * kLanes);
    kkav[b] = _mm512_mul_ps(kkv[b], _mm512_loadu_ps(a + b * kLanes));
    kv[b] = _mm512_loadu_ps(k + b * kLanes);
    dv[b] = _mm512_loadu_ps(decay + b * kLanes);
    rv[b] = _mm512_loadu_ps(r + b * kLanes);
  }
  for (int64_t i0 = 0; i0 < n; i0 += kLanes) {
    // sa for rows i0 .. i0+15.
    __m512 part[kLanes];
    for (int ii = 0; ii < kLanes; ++ii) {
      const float* row = S + (i0 + ii) * n;
      __m512 p = _mm512_mul_ps(_mm512_loadu_ps(row), kkv[0]);
      for (int b = 1; b < B; ++b) p = _mm512_fmadd_ps(_mm512_loadu_ps(row + b * kLanes), kkv[b], p);
      part[ii] = p;
    }
    const __m512 sa = _mm512_sub_ps(_mm512_setzero_ps(), Sum16(part));
    const __m512 vv = _mm512_loadu_ps(v + i0);
    // Update the rows, then y for them. Lane ii of sa / vv broadcast by a permute (no trip
    // through memory).
    for (int ii = 0; ii < kLanes; ++ii) {
      float* row = S + (i0 + ii) * n;
      const __m512i lane = _mm512_set1_epi32(ii);
      const __m512 sa_i = _mm512_permutexvar_ps(lane, sa);
      const __m512 v_i = _mm512_permutexvar_ps(lane, vv);
      __m512 q = _mm512_setzero_ps();
      for (int b = 0; b < B; ++b) {
        const __m512 add = _mm512_fmadd_ps(sa_i, kkav[b], _mm512_mul_ps(v_i, kv[b]));
        const __m512 s = _mm512_fmadd_ps(_mm512_loadu_ps(row + b * kLanes), dv[b], add);
        _mm512_storeu_ps(row + b * kLanes, s);
        q = _mm512_fmadd_ps(s, rv[b], q);
      }
      part[ii] = q;
    }
    _mm512_storeu_ps(y + i0, Sum16(part));
  }
}

}  // namespace

void Wkv7StepAvx512(int64_t head_size, float* S, const float* r, const float* k, const float* v,
                    const float* decay, const float* kk, const float* a, float* y) {
  switch (head_size) {
    case 16:
      return Step<1>(S, r, k, v, decay, kk, a, y);
    case 32:
      return Step<2>(S, r, k, v, decay, kk, a, y);
    case 64:
      return Step<4>(S, r, k, v, decay, kk, a, y);
    default:
      break;
  }
  const int64_t n = head_size, blocks = head_size / kLanes;
  alignas(64) float kka[kWkv7MaxHeadSize];
  for (int64_t b = 0; b < blocks; ++b) {
    _mm512_store_ps(kka + b * kLanes, _mm512_mul_ps(_mm512_loadu_ps(kk + b * kLanes),
                                                    _mm512_loadu_ps(a + b * kLanes)));
  }
  for (int64_t i0 = 0; i0 < n; i0 += kLanes) {
    // sa for rows i0 .. i0+15.
    __m512 part[kLanes];
    for (int ii = 0; ii < kLanes; ++ii) {
      const float* row = S + (i0 + ii) * n;
      __m512 p = _mm512_setzero_ps();
      for (int64_t b = 0; b < blocks; ++b) {
        p = _mm512_fmadd_ps(_mm512_loadu_ps(row + b * kLanes), _mm512_loadu_ps(kk + b * kLanes),
                            p);
      }
      part[ii] = p;
    }
    alignas(64) float sa[kLanes];
    _mm512_store_ps(sa, _mm512_sub_ps(_mm512_setzero_ps(), Sum16(part)));
    // Update the rows, then y for them.
    for (int ii = 0; ii < kLanes; ++ii) {
      float* row = S + (i0 + ii) * n;
      const __m512 sa_i = _mm512_set1_ps(sa[ii]);
      const __m512 v_i = _mm512_set1_ps(v[i0 + ii]);
      __m512 q = _mm512_setzero_ps();
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t j = b * kLanes;
        const __m512 add = _mm512_fmadd_ps(sa_i, _mm512_load_ps(kka + j),
                                           _mm512_mul_ps(v_i, _mm512_loadu_ps(k + j)));
        const __m512 s = _mm512_fmadd_ps(_mm512_loadu_ps(row + j), _mm512_loadu_ps(decay + j), add);
        _mm512_storeu_ps(row + j, s);
        q = _mm512_fmadd_ps(s, _mm512_loadu_ps(r + j), q);
      }
      part[ii] = q;
    }
    _mm512_storeu_ps(y + i0, Sum16(part));
  }
}

}  // namespace dte::internal
