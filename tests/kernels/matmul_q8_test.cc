// Differential tests of the int8-input products of Q8_0 weights (MatMulPrecision::kQ8): the
// AVX512_VNNI kernel and its input quantizer against their scalar twins, and the twin's error
// against the float kernels bounded by the inputs' rounding.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"
#include "kernels/matmul_test_util.h"
#include "kernels/quant.h"

namespace dte {
namespace {

using internal::Q8InputPair;
using testing::ExpectClose;
using testing::MakeMatrix;
using testing::RandomInputs;
using testing::TestMatrix;

std::vector<Q8InputPair> Quantized(const std::vector<float>& x, bool vectorized) {
  const int64_t cols = static_cast<int64_t>(x.size());
  std::vector<Q8InputPair> out((cols / 32 + 1) / 2);
  std::memset(static_cast<void*>(out.data()), 0xab, out.size() * sizeof(Q8InputPair));
  if (vectorized) {
    internal::QuantizeInputsQ8Avx512(x.data(), cols, out.data());
  } else {
    internal::QuantizeInputsQ8Reference(x.data(), cols, out.data());
  }
  return out;
}

// Inputs that exercise the quantizer's edge cases: a zero block, ties at .5 after scaling,
// one huge value among small ones, tiny (subnormal) values, negative maxima.
std::vector<float> EdgeInputs(int64_t cols, std::mt19937& rng) {
  std::vector<float> x = RandomInputs(1, cols, rng);
  for (int64_t c = 0; c < std::min<int64_t>(cols, 32); ++c) x[c] = 0;
  if (cols >= 64) {
    for (int64_t c = 32; c < 64; ++c) x[c] = static_cast<float>(c - 48) * 0.5f;  // ties
    x[63] = -127.0f;  // amax 127: id = 1, so the halves above are exact ties
  }
  if (cols >= 96) {
    x[64] = 1e6f;
    for (int64_t c = 65; c < 96; ++c) x[c] = 1e-40f * static_cast<float>(c);
  }
  return x;
}

TEST(MatMulQ8Test, ReferenceQuantizerBoundsAndBias) {
  std::mt19937 rng(11);
  for (int64_t cols : {32, 64, 96, 256, 1056}) {
    const std::vector<float> x = EdgeInputs(cols, rng);
    const std::vector<Q8InputPair> q = Quantized(x, false);
    for (int64_t b = 0; b < cols / 32; ++b) {
      const Q8InputPair& p = q[b / 2];
      const int half = static_cast<int>(b % 2);
      float amax = 0;
      for (int c = 0; c < 32; ++c) amax = std::max(amax, std::fabs(x[b * 32 + c]));
      const float d = p.scale[8 * half];
      EXPECT_EQ(d, amax / 127.0f);
      for (int j = 0; j < 8; ++j) EXPECT_EQ(p.scale[8 * half + j], d);
      for (int c = 0; c < 32; ++c) {
        const int v = p.q[32 * half + c];
        EXPECT_GE(v, -127);
        EXPECT_LE(v, 127);
        // Rounded to nearest: off by at most half a step (plus the float rounding of x / d).
        EXPECT_LE(std::fabs(x[b * 32 + c] - v * d), 0.5f * d * (1 + 1e-5f) + 1e-37f)
            << "cols " << cols << " block " << b << " col " << c;
      }
      for (int j = 0; j < 8; ++j) {
        const int8_t* g = p.q + 32 * half + 4 * j;
        EXPECT_EQ(p.bias[8 * half + j], -128 * (g[0] + g[1] + g[2] + g[3]));
      }
    }
    if ((cols / 32) % 2 != 0) {  // the last record's second half is zero
      const Q8InputPair& p = q.back();
      for (int c = 32; c < 64; ++c) EXPECT_EQ(p.q[c], 0);
      for (int j = 8; j < 16; ++j) EXPECT_EQ(p.bias[j], 0);
      for (int j = 8; j < 16; ++j) EXPECT_EQ(p.scale[j], 0.0f);
    }
  }
  // Exact ties round to even: 0.5 -> 0, 1.5 -> 2, -2.5 -> -2 (block of amax 127, d = 1).
  std::vector<float> t(32, 0.0f);
  t[0] = 0.5f, t[1] = 1.5f, t[2] = -2.5f, t[3] = 127.0f;
  const std::vector<Q8InputPair> qt = Quantized(t, false);
  EXPECT_EQ(qt[0].q[0], 0);
  EXPECT_EQ(qt[0].q[1], 2);
  EXPECT_EQ(qt[0].q[2], -2);
  EXPECT_EQ(qt[0].q[3], 127);
}

TEST(MatMulQ8Test, VectorizedQuantizerIsBitIdentical) {
  if (!VnniSupported()) GTEST_SKIP() << "no AVX512_VNNI";
  std::mt19937 rng(12);
  for (int64_t cols : {32, 64, 96, 256, 1056, 3072}) {
    for (int round = 0; round < 3; ++round) {
      std::vector<float> x = round == 0 ? EdgeInputs(cols, rng) : RandomInputs(1, cols, rng);
      if (round == 2) {
        for (float& v : x) v *= 1000.0f;
      }
      const std::vector<Q8InputPair> want = Quantized(x, false), got = Quantized(x, true);
      EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(Q8InputPair)))
          << "cols " << cols << " round " << round;
    }
  }
}

// The VNNI kernel against the scalar twin: same integers, float sums in another order.
TEST(MatMulQ8Test, VnniMatchesScalarTwin) {
  if (!VnniSupported()) GTEST_SKIP() << "no AVX512_VNNI";
  std::mt19937 rng(13);
  ThreadPool pool(3);
  for (int64_t cols : {32, 64, 96, 256, 1056, 2080}) {
    for (int64_t rows : {1, 3, 4, 5, 13, 67, 203}) {
      TestMatrix m = MakeMatrix(DType::kQ8_0, rows, cols, rng);
      for (int64_t n = 1; n <= kQ8MaxInputs; ++n) {
        std::vector<float> x = RandomInputs(n, cols, rng);
        std::vector<float> want(n * rows);
        scalar::MatMulQ8(m.view, x.data(), n, want.data());
        for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
          std::vector<float> got(n * rows, NAN), twin(n * rows, NAN);
          MatMulQ8On(KernelIsa::kAvx512, m.view, x.data(), n, got.data(), p);
          const std::string what = std::to_string(rows) + "x" + std::to_string(cols) +
                                   " n=" + std::to_string(n) + (p ? " pool" : "");
          ExpectClose(m, x, n, want, got, "vnni " + what);
          // The scalar family split over the pool is the twin exactly.
          MatMulQ8On(KernelIsa::kScalar, m.view, x.data(), n, twin.data(), p);
          EXPECT_EQ(0, std::memcmp(want.data(), twin.data(), want.size() * sizeof(float)))
              << "scalar " << what;
        }
      }
    }
  }
}

// Weights of -128 (outside what QuantizeRow writes, but a valid Q8_0 byte a file may hold) and
// +127 with inputs at +-127: the offset trick must keep every block sum exact.
TEST(MatMulQ8Test, ExtremeWeightsAreExact) {
  if (!VnniSupported()) GTEST_SKIP() << "no AVX512_VNNI";
  const int64_t rows = 4, cols = 96;  // three blocks: one pair and a tail
  std::vector<uint8_t> w(rows * 3 * sizeof(BlockQ8_0));
  std::vector<float> x(cols);
  for (int64_t c = 0; c < cols; ++c) x[c] = (c % 3 == 0) ? -127.0f : 127.0f;  // d_x = 1, q = x
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < 3; ++b) {
      BlockQ8_0 blk;
      blk.d = FloatToFp16(r + 1.0f);
      for (int c = 0; c < 32; ++c) blk.qs[c] = static_cast<int8_t>((c + r) % 2 ? -128 : 127);
      std::memcpy(w.data() + (r * 3 + b) * sizeof(BlockQ8_0), &blk, sizeof(blk));
    }
  }
  const MatrixView m{DType::kQ8_0, rows, cols, w.data()};
  std::vector<float> want(rows), got(rows, NAN);
  scalar::MatMulQ8(m, x.data(), 1, want.data());
  MatMulQ8On(KernelIsa::kAvx512, m, x.data(), 1, got.data(), nullptr);
  for (int64_t r = 0; r < rows; ++r) {
    double exact = 0;  // every product and sum is an integer well inside float's exact range
    for (int64_t c = 0; c < cols; ++c) {
      exact += static_cast<double>((c % 32 + r) % 2 ? -128 : 127) * x[c] * (r + 1.0);
    }
    EXPECT_EQ(want[r], static_cast<float>(exact)) << "row " << r;
    EXPECT_EQ(got[r], static_cast<float>(exact)) << "row " << r;
  }
}

// Against the float product (exact weights, float inputs) the only difference is each input's
// rounding, |x - q d| <= d / 2: |y_q8 - y_f32| <= sum_c |w_c| d_x(c) / 2 (plus float sums).
TEST(MatMulQ8Test, ErrorAgainstFloatIsBoundedByInputRounding) {
  std::mt19937 rng(14);
  double worst_share = 0, sum_rel = 0;
  int64_t count = 0;
  for (int64_t cols : {256, 768, 3072}) {
    TestMatrix m = MakeMatrix(DType::kQ8_0, 64, cols, rng);
    std::vector<float> x = RandomInputs(1, cols, rng);
    for (int64_t c = 0; c < cols; c += 97) x[c] *= 20.0f;  // some outliers widen their block
    const std::vector<Q8InputPair> q = Quantized(x, false);
    std::vector<float> f32(m.view.rows), q8(m.view.rows);
    scalar::MatMul(m.view, x.data(), 1, f32.data());
    scalar::MatMulQ8(m.view, x.data(), 1, q8.data());
    for (int64_t r = 0; r < m.view.rows; ++r) {
      double bound = 0, magnitude = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double w = std::fabs(m.dequantized[r * cols + c]);
        bound += w * q[c / 64].scale[(c % 64) / 32 * 8] / 2;
        magnitude += w * std::fabs(x[c]);
      }
      const double err = std::fabs(static_cast<double>(q8[r]) - f32[r]);
      EXPECT_LE(err, bound * (1 + 1e-4) + 1e-5 * magnitude) << "cols " << cols << " row " << r;
      worst_share = std::max(worst_share, err / bound);
      sum_rel += err / magnitude;
      ++count;
    }
  }
  // Rounding errors are independent, so the typical error is far below the worst-case bound.
  EXPECT_LT(worst_share, 0.5);
  RecordProperty("worst_error_share_of_bound", std::to_string(worst_share));
  RecordProperty("mean_error_over_sum_abs_wx", std::to_string(sum_rel / count));
}

// The dispatched products follow ActiveMatMulPrecision: kQ8 for Q8_0 up to kQ8MaxInputs.
TEST(MatMulQ8Test, DispatchFollowsPolicy) {
  std::mt19937 rng(15);
  ThreadPool pool(2);
  TestMatrix m = MakeMatrix(DType::kQ8_0, 150, 768, rng);
  for (int64_t n = 1; n <= kQ8MaxInputs + 1; ++n) {
    std::vector<float> x = RandomInputs(n, 768, rng);
    std::vector<float> want(n * 150), got(n * 150, NAN);
    const bool q8 = ActiveMatMulPrecision(DType::kQ8_0, n) == MatMulPrecision::kQ8;
    EXPECT_EQ(q8, ActiveVnniPolicy() == VnniPolicy::kAuto && n <= kQ8MaxInputs);
    if (q8) {
      scalar::MatMulQ8(m.view, x.data(), n, want.data());
    } else {
      scalar::MatMul(m.view, x.data(), n, want.data());
    }
    MatMul(m.view, x.data(), n, got.data(), &pool);
    ExpectClose(m, x, n, want, got, "dispatched n=" + std::to_string(n));
    if (n == 1) {
      std::vector<float> got1(150, NAN);
      MatVec(m.view, x.data(), got1.data(), nullptr);
      ExpectClose(m, x, 1, want, got1, "MatVec");
    }
  }
}

}  // namespace
}  // namespace dte
