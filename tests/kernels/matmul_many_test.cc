// MatMulMany (one parallel loop over several products) gives exactly what MatMul gives for each
// product, for mixed weight types, every batch size around kManyMaxInputs, and with or without a
// pool.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/matmul_test_util.h"

namespace dte {
namespace {

using testing::MakeMatrix;
using testing::RandomInputs;
using testing::TestMatrix;

TEST(MatMulManyTest, BitIdenticalToOneMatMulPerProduct) {
  std::mt19937 rng(31);
  ThreadPool pool(3);
  struct Shape {
    DType type;
    int64_t rows, cols;
  };
  const Shape shapes[] = {{DType::kQ8_0, 203, 256}, {DType::kF16, 64, 256},  {DType::kF32, 37, 256},
                          {DType::kQ8_0, 768, 96},  {DType::kQ4_1, 13, 256}, {DType::kF16, 0, 256},
                          {DType::kBF16, 130, 1056}};
  std::vector<TestMatrix> mats;
  for (const Shape& s : shapes) mats.push_back(MakeMatrix(s.type, s.rows, s.cols, rng));
  for (int64_t n = 0; n <= kManyMaxInputs + 2; ++n) {
    std::vector<std::vector<float>> xs, want, got;
    std::vector<MatMulTask> tasks;
    for (const TestMatrix& m : mats) {
      xs.push_back(RandomInputs(n, m.view.cols, rng));
      want.emplace_back(n * m.view.rows, 0.0f);
      got.emplace_back(n * m.view.rows, NAN);
    }
    for (size_t j = 0; j < mats.size(); ++j) {
      MatMul(mats[j].view, xs[j].data(), n, want[j].data(), &pool);
      tasks.push_back(MatMulTask{mats[j].view, xs[j].data(), got[j].data()});
    }
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      for (auto& g : got) std::fill(g.begin(), g.end(), NAN);
      MatMulMany(tasks, n, p);
      for (size_t j = 0; j < mats.size(); ++j) {
        EXPECT_EQ(0, std::memcmp(want[j].data(), got[j].data(), want[j].size() * sizeof(float)))
            << "product " << j << " (" << DTypeName(mats[j].view.type) << ") n=" << n
            << (p ? " pool" : "");
      }
    }
  }
}

}  // namespace
}  // namespace dte
