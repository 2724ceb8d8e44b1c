// Differential tests: every fast kernel family against the scalar twin, for every DType, odd
// shapes, several batch sizes, with and without a thread pool.

#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu_features.h"
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
constexpr int64_t kBatches[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 33};

std::vector<KernelIsa> FastIsas() {
  std::vector<KernelIsa> isas;
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (IsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

std::vector<int64_t> ColsFor(DType type) {
  if (DTypeIsQuantized(type)) return {32, 64, 96, 256, 1056, 2080};
  // Float rows may have any length: tails shorter than a vector, panels of 1024 plus a tail.
  return {1, 7, 16, 31, 33, 100, 257, 1061};
}

class MatMulTypeTest : public ::testing::TestWithParam<DType> {};

TEST_P(MatMulTypeTest, FastMatchesScalarTwin) {
  const DType type = GetParam();
  std::mt19937 rng(1234 + static_cast<int>(type));
  ThreadPool pool(3);
  for (int64_t cols : ColsFor(type)) {
    for (int64_t rows : {1, 3, 4, 5, 13, 67}) {
      TestMatrix m = MakeMatrix(type, rows, cols, rng);
      for (int64_t n : kBatches) {
        std::vector<float> x = RandomInputs(n, cols, rng);
        std::vector<float> want(n * rows);
        scalar::MatMul(m.view, x.data(), n, want.data());
        for (KernelIsa isa : FastIsas()) {
          for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
            std::vector<float> got(n * rows, NAN);
            MatMulOn(isa, m.view, x.data(), n, got.data(), p);
            ExpectClose(m, x, n, want, got,
                        std::string(KernelIsaName(isa)) + " " + std::string(DTypeName(type)) + " " +
                            std::to_string(rows) + "x" + std::to_string(cols) +
                            " n=" + std::to_string(n) + (p ? " pool" : ""));
          }
        }
      }
    }
  }
}

// Shapes large enough that the pool really splits the rows (small products run inline).
TEST_P(MatMulTypeTest, ThreadedSplitsMatchScalarTwin) {
  const DType type = GetParam();
  std::mt19937 rng(99 + static_cast<int>(type));
  ThreadPool pool(3);
  const int64_t cols = DTypeIsQuantized(type) ? 1088 : 1090;
  TestMatrix m = MakeMatrix(type, 203, cols, rng);
  for (int64_t n : {1, 17}) {
    std::vector<float> x = RandomInputs(n, cols, rng);
    std::vector<float> want(n * m.view.rows);
    scalar::MatMul(m.view, x.data(), n, want.data());
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
      if (!IsaSupported(isa)) continue;
      std::vector<float> got(want.size(), NAN);
      MatMulOn(isa, m.view, x.data(), n, got.data(), &pool);
      ExpectClose(m, x, n, want, got,
                  std::string(KernelIsaName(isa)) + " threaded n=" + std::to_string(n));
    }
  }
}

// The public entry points (active family) agree with the twin too; MatVec == MatMul(n = 1).
TEST_P(MatMulTypeTest, DispatchedMatchesScalarTwin) {
  const DType type = GetParam();
  std::mt19937 rng(7 + static_cast<int>(type));
  ThreadPool pool(2);
  TestMatrix m = MakeMatrix(type, 37, 320, rng);
  std::vector<float> x = RandomInputs(5, 320, rng);
  // The scalar twin of the precision the dispatcher picks for n inputs.
  auto reference = [&](int64_t n, float* y) {
    if (ActiveMatMulPrecision(type, n) == MatMulPrecision::kQ8) {
      scalar::MatMulQ8(m.view, x.data(), n, y);  // int8 inputs (matmul_q8_test.cc)
    } else {
      scalar::MatMul(m.view, x.data(), n, y);
    }
  };
  std::vector<float> want(5 * 37), got(5 * 37, NAN);
  reference(5, want.data());
  MatMul(m.view, x.data(), 5, got.data(), &pool);
  ExpectClose(m, x, 5, want, got, "MatMul");
  std::vector<float> want1(37), got1(37, NAN);
  reference(1, want1.data());
  MatVec(m.view, x.data(), got1.data(), nullptr);
  ExpectClose(m, x, 1, want1, got1, "MatVec");
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatMulTypeTest, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// The scalar family split over a pool is bit-identical to the reference.
TEST(MatMulTest, ScalarFamilyIsBitIdenticalToTwin) {
  std::mt19937 rng(5);
  ThreadPool pool(3);
  TestMatrix m = MakeMatrix(DType::kQ5_1, 301, 1024, rng);
  std::vector<float> x = RandomInputs(3, 1024, rng);
  std::vector<float> want(3 * 301), got(3 * 301);
  scalar::MatMul(m.view, x.data(), 3, want.data());
  MatMulOn(KernelIsa::kScalar, m.view, x.data(), 3, got.data(), &pool);
  EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)));
}

TEST(MatMulTest, EmptyShapesWriteNothing) {
  std::vector<float> w(64, 1.0f), x(64, 1.0f), y(4, 42.0f);
  MatrixView m{DType::kF32, 0, 64, w.data()};
  MatMul(m, x.data(), 1, y.data(), nullptr);
  m.rows = 1;
  MatMul(m, x.data(), 0, y.data(), nullptr);
  EXPECT_EQ(y[0], 42.0f);
}

// Products whose exact value is known: integers small enough to be exact in f32.
TEST(MatMulTest, ExactSmallIntegerProducts) {
  const int64_t rows = 9, cols = 64, n = 6;
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
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
      if (!IsaSupported(isa)) continue;
      std::vector<float> y(n * rows);
      MatMulOn(isa, m, x.data(), n, y.data(), nullptr);
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

}  // namespace
}  // namespace dte
