#pragma once
// Loop structure shared by the AVX2 and AVX-512 weight kernels, written once as templates over
//   V: the vector unit (register type, lanes, load/fma/reduce), and
//   D: a row decoder that turns 32 consecutive weights of a row into 32 / V::kLanes vectors of
//      float (scaled and offset, i.e. exactly the dequantized weights).
// Included only by matmul_avx2.cc and matmul_avx512.cc, which instantiate it with types from
// their anonymous namespaces, so every instantiation stays local to its ISA's file (see
// matmul_internal.h). Nothing here may be a non-template inline function, nor a template whose
// arguments are all shared types (its one copy could come from either ISA's file).
//
// MatVec (n == 1) is memory-bound: each weight row is streamed once, decoded in registers and
// multiplied into two accumulators; out-of-order execution overlaps consecutive rows. One row
// at a time on purpose: interleaving 2 or 4 rows (sharing the x loads) measured the same from
// cache but 3-6x slower from DRAM (Zen 5, 65536x768 q8_0: 4.4 GB/s vs 31 GB/s), as the
// interleaved streams defeat the hardware prefetcher.
// MatMul with up to V::kStreamInputs inputs streams rows the same way (DotRows), n dot products
// per decoded step. With more, MatMul decodes a tile of four rows, one panel of columns at a time, into a small
// float buffer on the stack, then multiplies it with every input, kInputTile inputs at a time
// (a register tile of 4 rows x kInputTile inputs), so each weight is read from memory once.
// Results differ from the scalar twin only in summation order (and, for Q4_1/Q5_1, in the
// weight being q*d+m fused into one rounding instead of two).

#include <cstdint>

#include "kernels/matmul_internal.h"
#include "kernels/stream_prefetch.h"

namespace dte::internal::tiles {

inline constexpr int kStep = 32;         // columns per decode: one quant block
inline constexpr int kRowTile = 4;       // rows per tile
inline constexpr int64_t kPanel = 1024;  // columns per decoded panel (16 KiB for 4 rows)
inline constexpr int64_t kDirectMaxInputs = 16;
inline constexpr int64_t kPrefetchTiles = 2;  // how far ahead MatMulTiles prefetches weights

// y[r] = row r . x (n == 1). Four accumulators (two steps per round for AVX-512's two
// vectors per step), so no FMA waits on the one before it.
template <class V, class D>
void DotRow(const MatMulArgs& a, int64_t r) {
  using Reg = typename V::Reg;
  constexpr int kPerStep = kStep / V::kLanes;
  constexpr int kAcc = 4;
  constexpr int kStepsPerRound = kPerStep >= kAcc ? 1 : kAcc / kPerStep;
  const uint8_t* w = a.w + r * static_cast<int64_t>(a.row_bytes);
  Reg acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = V::Zero();
  const int64_t steps = a.cols / kStep;
  int64_t s = 0;
  for (; s + kStepsPerRound <= steps; s += kStepsPerRound) {
#pragma GCC unroll 4
    for (int u = 0; u < kStepsPerRound; ++u) {
      const float* xs = a.x + (s + u) * kStep;
      Reg wv[kPerStep];
      D::Decode(w, s + u, wv);
#pragma GCC unroll 4
      for (int j = 0; j < kPerStep; ++j) {
        Reg& sum = acc[(u * kPerStep + j) % kAcc];
        sum = V::Fma(wv[j], V::Load(xs + j * V::kLanes), sum);
      }
    }
  }
  for (; s < steps; ++s) {
    const float* xs = a.x + s * kStep;
    Reg wv[kPerStep];
    D::Decode(w, s, wv);
#pragma GCC unroll 4
    for (int j = 0; j < kPerStep; ++j) {
      acc[j % kAcc] = V::Fma(wv[j], V::Load(xs + j * V::kLanes), acc[j % kAcc]);
    }
  }
  float sum = V::Reduce(V::Add(V::Add(acc[0], acc[1]), V::Add(acc[2], acc[3])));
  // Float types may have a tail shorter than a step; quantized rows never do.
  for (int64_t c = steps * kStep; c < a.cols; ++c) sum += D::At(w, c) * a.x[c];
  a.y[r] = sum;
}

// y[i * rows + r] = row r . x_i for N <= V::kStreamInputs inputs: DotRow's one-row stream (the
// weights are decoded once, in registers) with N dot products per decoded step, two accumulators
// each. For so few inputs the product is bound by reading the weights, and this keeps MatVec's
// access pattern (batch-2 decode of the 0.1B F16 model, 2 threads: 168 tok/s through the row
// tiles, 280 this way).
template <class V, class D, int N>
void DotRows(const MatMulArgs& a, int64_t r) {
  using Reg = typename V::Reg;
  constexpr int kPerStep = kStep / V::kLanes;
  const uint8_t* w = a.w + r * static_cast<int64_t>(a.row_bytes);
  Reg acc[N][2];
  for (int i = 0; i < N; ++i) acc[i][0] = acc[i][1] = V::Zero();
  const int64_t steps = a.cols / kStep;
  for (int64_t s = 0; s < steps; ++s) {
    Reg wv[kPerStep];
    D::Decode(w, s, wv);
#pragma GCC unroll 8
    for (int i = 0; i < N; ++i) {
      const float* xs = a.x + i * a.cols + s * kStep;
#pragma GCC unroll 4
      for (int j = 0; j < kPerStep; ++j) {
        acc[i][j % 2] = V::Fma(wv[j], V::Load(xs + j * V::kLanes), acc[i][j % 2]);
      }
    }
  }
  for (int i = 0; i < N; ++i) {
    float total = V::Reduce(V::Add(acc[i][0], acc[i][1]));
    const float* xi = a.x + i * a.cols;
    for (int64_t c = steps * kStep; c < a.cols; ++c) total += D::At(w, c) * xi[c];
    a.y[i * a.rows + r] = total;
  }
}

// out[0..kc) = the weights [c0, c0 + kc) of one row; c0 is a multiple of kStep.
template <class V, class D>
void DecodePanel(const uint8_t* row, int64_t c0, int64_t kc, float* out) {
  using Reg = typename V::Reg;
  constexpr int kPerStep = kStep / V::kLanes;
  const int64_t s0 = c0 / kStep;
  const int64_t full = kc / kStep;
  for (int64_t s = 0; s < full; ++s) {
    Reg wv[kPerStep];
    D::Decode(row, s0 + s, wv);
    for (int j = 0; j < kPerStep; ++j) V::Store(out + s * kStep + j * V::kLanes, wv[j]);
  }
  for (int64_t c = full * kStep; c < kc; ++c) out[c] = D::At(row, c0 + c);
}

// Register tile: y[i * ys + r] (+)= sum_{c < k} w[r * ws + c] * x[i * xs + c], r < R, i < N.
template <class V, int R, int N>
void Micro(const float* w, int64_t ws, const float* x, int64_t xs, int64_t k, float* y, int64_t ys,
           bool accumulate) {
  using Reg = typename V::Reg;
  Reg acc[R][N];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < N; ++i) acc[r][i] = V::Zero();
  int64_t c = 0;
  for (; c + V::kLanes <= k; c += V::kLanes) {
    Reg xv[N];
#pragma GCC unroll 8
    for (int i = 0; i < N; ++i) xv[i] = V::Load(x + i * xs + c);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const Reg wv = V::Load(w + r * ws + c);
#pragma GCC unroll 8
      for (int i = 0; i < N; ++i) acc[r][i] = V::Fma(wv, xv[i], acc[r][i]);
    }
  }
  if (c < k) {
    const int left = static_cast<int>(k - c);
    Reg xv[N];
    for (int i = 0; i < N; ++i) xv[i] = V::LoadPartial(x + i * xs + c, left);
    for (int r = 0; r < R; ++r) {
      const Reg wv = V::LoadPartial(w + r * ws + c, left);
      for (int i = 0; i < N; ++i) acc[r][i] = V::Fma(wv, xv[i], acc[r][i]);
    }
  }
  for (int i = 0; i < N; ++i) {
    for (int r = 0; r < R; ++r) {
      const float s = V::Reduce(acc[r][i]);
      float* out = y + i * ys + r;
      *out = accumulate ? *out + s : s;
    }
  }
}

// One panel of R rows (w, row stride ws) times every input.
template <class V, int R>
void PanelTimesInputs(const float* w, int64_t ws, const MatMulArgs& a, int64_t r0, int64_t c0,
                      int64_t kc, bool accumulate) {
  constexpr int kN = V::kInputTile;
  const float* x = a.x + c0;
  float* y = a.y + r0;
  int64_t i = 0;
  for (; i + kN <= a.n; i += kN) {
    Micro<V, R, kN>(w, ws, x + i * a.cols, a.cols, kc, y + i * a.rows, a.rows, accumulate);
  }
  const int64_t left = a.n - i;
  x += i * a.cols;
  y += i * a.rows;
  // kInputTile is at most 4.
  if (left == 3) Micro<V, R, 3>(w, ws, x, a.cols, kc, y, a.rows, accumulate);
  if (left == 2) Micro<V, R, 2>(w, ws, x, a.cols, kc, y, a.rows, accumulate);
  if (left == 1) Micro<V, R, 1>(w, ws, x, a.cols, kc, y, a.rows, accumulate);
}

template <class V, class D>
void MatMulTiles(const MatMulArgs& a, int64_t r0, int64_t r1) {
  static_assert(V::kInputTile >= 1 && V::kInputTile <= 4);
  alignas(64) float panel[kRowTile * kPanel];
  const int64_t row_bytes = static_cast<int64_t>(a.row_bytes);
  for (int64_t rt = r0; rt < r1; rt += kRowTile) {
    const int rows = static_cast<int>(r1 - rt < kRowTile ? r1 - rt : kRowTile);
    // The weights come from DRAM and a tile computes for too short a time between reads for
    // the hardware prefetcher to run ahead: ask for the rows kPrefetchTiles tiles ahead (their
    // bytes are contiguous). Batch-8 decode of the 0.1B F16 model: 13.5 -> ? GB/s of weights.
    const int64_t ahead = rt + kPrefetchTiles * kRowTile;
    if (ahead < r1) {
      const int64_t end = (ahead + kRowTile < r1 ? ahead + kRowTile : r1) * row_bytes;
      for (int64_t b = ahead * row_bytes; b < end; b += 64) __builtin_prefetch(a.w + b, 0, 2);
    }
    for (int64_t c0 = 0; c0 < a.cols; c0 += kPanel) {
      const int64_t kc = a.cols - c0 < kPanel ? a.cols - c0 : kPanel;
      const float* w;
      int64_t ws;
      // f32 rows are used in place for few inputs (a copy would cost as much as the products);
      // for many, copying them into the aligned panel pays (no split loads): 86 -> 104 G/s.
      if (D::kDirect && a.n < kDirectMaxInputs) {
        w = reinterpret_cast<const float*>(a.w + rt * row_bytes) + c0;
        ws = a.cols;
      } else {
        for (int r = 0; r < rows; ++r) {
          DecodePanel<V, D>(a.w + (rt + r) * row_bytes, c0, kc, panel + r * kPanel);
        }
        w = panel;
        ws = kPanel;
      }
      const bool accumulate = c0 > 0;
      switch (rows) {
        case 4:
          PanelTimesInputs<V, 4>(w, ws, a, rt, c0, kc, accumulate);
          break;
        case 3:
          PanelTimesInputs<V, 3>(w, ws, a, rt, c0, kc, accumulate);
          break;
        case 2:
          PanelTimesInputs<V, 2>(w, ws, a, rt, c0, kc, accumulate);
          break;
        default:
          PanelTimesInputs<V, 1>(w, ws, a, rt, c0, kc, accumulate);
          break;
      }
    }
  }
}

// Streams rows [r0, r1) through row(r), the next weights prefetched (stream_prefetch.h).
template <class Row>
void StreamWithPrefetch(const MatMulArgs& a, int64_t r0, int64_t r1, Row row) {
  const int64_t row_bytes = static_cast<int64_t>(a.row_bytes);
  StreamPrefetcher prefetch(a, r0, r1);
  for (int64_t r = r0; r < r1; ++r) {
    prefetch.ReadingAt(a.w + (r + 1) * row_bytes);
    row(r);
  }
}

// DotRow / DotRows<N> for a.n = N, 1 <= N <= kMax.
template <class V, class D, int kMax>
void StreamRows(const MatMulArgs& a, int64_t r0, int64_t r1) {
  if constexpr (kMax > 1) {
    if (a.n < kMax) {
      StreamRows<V, D, kMax - 1>(a, r0, r1);
      return;
    }
    StreamWithPrefetch(a, r0, r1, [&a](int64_t r) { DotRows<V, D, kMax>(a, r); });
  } else {
    StreamWithPrefetch(a, r0, r1, [&a](int64_t r) { DotRow<V, D>(a, r); });
  }
}

// Rows [r0, r1) of the product for weights decoded by D.
template <class V, class D>
void Rows(const MatMulArgs& a, int64_t r0, int64_t r1) {
  if (a.n <= V::kStreamInputs) {
    StreamRows<V, D, V::kStreamInputs>(a, r0, r1);
    return;
  }
  MatMulTiles<V, D>(a, r0, r1);
}

// The entry point of one ISA, given its vector unit and its decoders for every DType.
template <class V, class F32, class F16, class BF16, class Q4_0, class Q4_1, class Q5_0, class Q5_1,
          class Q8_0>
void RowsForType(const MatMulArgs& a, int64_t r0, int64_t r1) {
  switch (a.type) {
    case DType::kF32:
      Rows<V, F32>(a, r0, r1);
      return;
    case DType::kF16:
      Rows<V, F16>(a, r0, r1);
      return;
    case DType::kBF16:
      Rows<V, BF16>(a, r0, r1);
      return;
    case DType::kQ4_0:
      Rows<V, Q4_0>(a, r0, r1);
      return;
    case DType::kQ4_1:
      Rows<V, Q4_1>(a, r0, r1);
      return;
    case DType::kQ5_0:
      Rows<V, Q5_0>(a, r0, r1);
      return;
    case DType::kQ5_1:
      Rows<V, Q5_1>(a, r0, r1);
      return;
    case DType::kQ8_0:
      Rows<V, Q8_0>(a, r0, r1);
      return;
  }
}

}  // namespace dte::internal::tiles
