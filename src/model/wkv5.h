#pragma once
// The RWKV-5/6 linear-attention step for one token of one head, shared by rwkv5.cc and rwkv6.cc.
// S is N x N with S[key][value]; w (decay) and u (bonus) are per key channel:
//   y[j]    = sum_i r[i] * (u[i] * k[i] * v[j] + S[i][j])
//   S[i][j] = S[i][j] * w[i] + k[i] * v[j]

#include <cstdint>

namespace dte {

inline void Wkv5Step(float* S, const float* r, const float* k, const float* v, const float* w,
                     const float* u, int64_t n, float* y) {
  for (int64_t j = 0; j < n; ++j) y[j] = 0;
  for (int64_t i = 0; i < n; ++i) {
    float* row = S + i * n;
    const float ri = r[i], ki = k[i], wi = w[i], rui = r[i] * u[i] * k[i];
    for (int64_t j = 0; j < n; ++j) {
      y[j] += rui * v[j] + ri * row[j];
      row[j] = row[j] * wi + ki * v[j];
    }
  }
}

}  // namespace dte
