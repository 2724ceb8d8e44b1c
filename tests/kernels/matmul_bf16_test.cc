// Differential tests of the bf16-input products (MatMulPrecision::kBf16): the AVX512_BF16 GEMM
// against its scalar twin (weights and inputs rounded to bf16, float sums), the twin against
// the float products (how much bf16 costs), and the dispatch policy.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/matmul_test_util.h"
#include "kernels/quant.h"

namespace dte {
namespace {

using testing::ExpectClose;
using testing::MakeMatrix;
using testing::RandomInputs;
using testing::TestMatrix;

constexpr DType kAllTypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0,
                               DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0};

// The twin and the kernel round the same values the same way (round to nearest even) and
// multiply exactly; they differ in summation order (pairs, then lanes), so they get the
// tolerance of the float kernels.
constexpr double kTwinTolerance = 1e-5;
// bf16 keeps 8 significant bits: each of w and x is off by at most 2^-9 relative, a product
// by about 2^-8. Bound relative to sum |w * x|.
constexpr double kBf16Tolerance = 1.0 / 256;

std::vector<int64_t> ColsFor(DType type) {
  if (DTypeIsQuantized(type)) return {32, 96, 544, 1056, 2080};
  // Odd counts (a zero-padded last pair), more than one 1024-column panel, tails.
  return {1, 2, 7, 31, 33, 100, 513, 1061, 2049};
}

class MatMulBf16Test : public ::testing::TestWithParam<DType> {};

TEST_P(MatMulBf16Test, Avx512MatchesScalarTwin) {
  if (!Bf16Supported()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  const DType type = GetParam();
  std::mt19937 rng(4321 + static_cast<int>(type));
  ThreadPool pool(3);
  for (int64_t cols : ColsFor(type)) {
    for (int64_t rows : {1, 5, 12, 13, 37}) {
      TestMatrix m = MakeMatrix(type, rows, cols, rng);
      for (int64_t n : {1, 4, 15, 16, 17, 33, 48}) {
        std::vector<float> x = RandomInputs(n, cols, rng);
        std::vector<float> want(n * rows);
        scalar::MatMulBf16(m.view, x.data(), n, want.data());
        for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
          std::vector<float> got(n * rows, NAN);
          MatMulBf16On(KernelIsa::kAvx512, m.view, x.data(), n, got.data(), p);
          ExpectClose(m, x, n, want, got,
                      std::string(DTypeName(type)) + " " + std::to_string(rows) + "x" +
                          std::to_string(cols) + " n=" + std::to_string(n) + (p ? " pool" : ""),
                      kTwinTolerance);
        }
      }
    }
  }
}

// What bf16 costs against the float products, for every type (the twin, so it runs anywhere).
TEST_P(MatMulBf16Test, TwinStaysCloseToFloatProducts) {
  const DType type = GetParam();
  std::mt19937 rng(77 + static_cast<int>(type));
  const int64_t rows = 29, cols = DTypeIsQuantized(type) ? 768 : 770, n = 9;
  TestMatrix m = MakeMatrix(type, rows, cols, rng);
  std::vector<float> x = RandomInputs(n, cols, rng);
  std::vector<float> f32(n * rows), bf16(n * rows);
  scalar::MatMul(m.view, x.data(), n, f32.data());
  scalar::MatMulBf16(m.view, x.data(), n, bf16.data());
  ExpectClose(m, x, n, f32, bf16, std::string(DTypeName(type)), kBf16Tolerance);
  EXPECT_NE(f32, bf16) << "random inputs should not all be exact in bf16";
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatMulBf16Test, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// The scalar family split over a pool is bit-identical to the twin.
TEST(MatMulBf16Test, ScalarFamilyIsBitIdenticalToTwin) {
  std::mt19937 rng(6);
  ThreadPool pool(3);
  TestMatrix m = MakeMatrix(DType::kF16, 203, 544, rng);
  std::vector<float> x = RandomInputs(19, 544, rng);
  std::vector<float> want(19 * 203), got(19 * 203);
  scalar::MatMulBf16(m.view, x.data(), 19, want.data());
  MatMulBf16On(KernelIsa::kScalar, m.view, x.data(), 19, got.data(), &pool);
  EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)));
}

// Small integers are exact in bf16 and their sums exact in float: every path gives the exact
// result.
TEST(MatMulBf16Test, ExactSmallIntegerProducts) {
  const int64_t rows = 14, cols = 70, n = 20;
  std::vector<float> wf(rows * cols), x(n * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) wf[r * cols + c] = static_cast<float>((r + c) % 5 - 2);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < cols; ++c) x[i * cols + c] = static_cast<float>((i * 3 + c) % 7 - 3);
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16}) {
    std::vector<uint8_t> wq(DTypeRowBytes(type, cols) * rows);
    for (int64_t r = 0; r < rows; ++r)
      QuantizeRow(type, &wf[r * cols], wq.data() + r * DTypeRowBytes(type, cols), cols);
    MatrixView m{type, rows, cols, wq.data()};
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx512}) {
      if (isa == KernelIsa::kAvx512 && !Bf16Supported()) continue;
      std::vector<float> y(n * rows);
      MatMulBf16On(isa, m, x.data(), n, y.data(), nullptr);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t r = 0; r < rows; ++r) {
          float want = 0;
          for (int64_t c = 0; c < cols; ++c) want += wf[r * cols + c] * x[i * cols + c];
          EXPECT_EQ(y[i * rows + r], want) << KernelIsaName(isa) << " " << DTypeName(type);
        }
      }
    }
  }
}

// The dispatched MatMul follows ActiveMatMulPrecision, which follows the policy.
TEST(MatMulBf16Test, DispatchFollowsPolicy) {
  const Bf16Policy policy = ActiveBf16Policy();
  for (DType type : kAllTypes) {
    // Few inputs: float, except Q8_0 weights where the VNNI policy allows int8 inputs.
    const bool q8 = type == DType::kQ8_0 && ActiveVnniPolicy() == VnniPolicy::kAuto;
    EXPECT_EQ(ActiveMatMulPrecision(type, 1), q8 ? MatMulPrecision::kQ8 : MatMulPrecision::kF32);
    EXPECT_EQ(ActiveMatMulPrecision(type, kQ8MaxInputs),
              q8 ? MatMulPrecision::kQ8 : MatMulPrecision::kF32);
    EXPECT_EQ(ActiveMatMulPrecision(type, kBf16MinInputs - 1), MatMulPrecision::kF32);
    const bool bf16 = policy == Bf16Policy::kAll ||
                      (policy == Bf16Policy::kAuto && type != DType::kF32);
    EXPECT_EQ(ActiveMatMulPrecision(type, kBf16MinInputs),
              bf16 ? MatMulPrecision::kBf16 : MatMulPrecision::kF32)
        << DTypeName(type);
  }
  std::mt19937 rng(8);
  ThreadPool pool(2);
  const int64_t n = kBf16MinInputs + 3;
  for (DType type : {DType::kF32, DType::kF16, DType::kQ8_0}) {
    TestMatrix m = MakeMatrix(type, 40, 256, rng);
    std::vector<float> x = RandomInputs(n, 256, rng);
    std::vector<float> want(n * 40), got(n * 40, NAN);
    if (ActiveMatMulPrecision(type, n) == MatMulPrecision::kBf16) {
      scalar::MatMulBf16(m.view, x.data(), n, want.data());
    } else {
      scalar::MatMul(m.view, x.data(), n, want.data());
    }
    MatMul(m.view, x.data(), n, got.data(), &pool);
    ExpectClose(m, x, n, want, got, std::string(DTypeName(type)) + " dispatched",
                kTwinTolerance);
  }
}

}  // namespace
}  // namespace dte
