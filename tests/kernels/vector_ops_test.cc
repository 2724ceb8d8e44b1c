// Differential tests: the AVX-512 element-wise ops against their scalar twins (odd lengths,
// aliasing in and out), and the inline activations' edge cases.

#include "kernels/vector_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace dte {
namespace {

std::vector<float> Random(int64_t n, std::mt19937& rng, float lo = -2.0f, float hi = 3.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void ExpectNear(const std::vector<float>& want, const std::vector<float>& got,
                const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(want[i], got[i], 1e-5 * (1 + std::fabs(want[i]))) << what << " [" << i << "]";
  }
}

std::vector<KernelIsa> Families() {
  std::vector<KernelIsa> out;
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (IsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

TEST(VectorOpsTest, FamiliesMatchScalarTwins) {
  std::mt19937 rng(11);
  for (KernelIsa isa : Families()) {
    const VectorOps& ops = VectorOpsFor(isa);
    for (int64_t n : {1, 7, 16, 33, 64, 100, 768, 1031}) {
      const std::string what = std::string(KernelIsaName(isa)) + " n=" + std::to_string(n);
      // Rows with an offset, so the mean matters to the variance.
      std::vector<float> x = Random(n, rng, 4.0f, 6.0f), prev = Random(n, rng);
      std::vector<float> w = Random(n, rng), b = Random(n, rng), mix = Random(n, rng, 0, 1);
      std::vector<float> want(n), got(n);
      scalar::LayerNorm(x.data(), w.data(), b.data(), n, 1e-5f, want.data());
      ops.layer_norm(x.data(), w.data(), b.data(), n, 1e-5f, got.data());
      ExpectNear(want, got, "LayerNorm " + what);
      got = x;  // in place
      ops.layer_norm(got.data(), w.data(), b.data(), n, 1e-5f, got.data());
      ExpectNear(want, got, "LayerNorm in place " + what);
      scalar::LerpShift(x.data(), prev.data(), mix.data(), n, want.data());
      ops.lerp_shift(x.data(), prev.data(), mix.data(), n, got.data());
      ExpectNear(want, got, "LerpShift " + what);
      scalar::MixShift(x.data(), prev.data(), mix.data(), n, want.data());
      ops.mix_shift(x.data(), prev.data(), mix.data(), n, got.data());
      ExpectNear(want, got, "MixShift " + what);
    }
    for (int64_t groups : {1, 4, 12}) {
      for (int64_t g : {8, 16, 64, 70}) {
        const int64_t n = groups * g;
        std::vector<float> x = Random(n, rng), w = Random(n, rng), b = Random(n, rng);
        std::vector<float> want(n), got(n);
        scalar::GroupNorm(x.data(), w.data(), b.data(), n, groups, 64e-5f, want.data());
        ops.group_norm(x.data(), w.data(), b.data(), n, groups, 64e-5f, got.data());
        ExpectNear(want, got,
                   std::string(KernelIsaName(isa)) + " GroupNorm " + std::to_string(groups) +
                       "x" + std::to_string(g));
      }
    }
  }
}

TEST(VectorOpsTest, DispatchedOpsAreTheActiveFamilys) {
  std::mt19937 rng(12);
  const int64_t n = 300;
  std::vector<float> x = Random(n, rng), w = Random(n, rng), b = Random(n, rng);
  std::vector<float> a(n), c(n);
  LayerNorm(x.data(), w.data(), b.data(), n, 1e-5f, a.data());
  VectorOpsFor(ActiveIsa()).layer_norm(x.data(), w.data(), b.data(), n, 1e-5f, c.data());
  EXPECT_EQ(a, c);
}

TEST(VectorOpsTest, ReluSquareEdgeCases) {
  EXPECT_EQ(ReluSquare(3.0f), 9.0f);
  EXPECT_EQ(ReluSquare(-3.0f), 0.0f);
  EXPECT_EQ(ReluSquare(0.0f), 0.0f);
  EXPECT_EQ(ReluSquare(-0.0f), 0.0f);
  EXPECT_FALSE(std::signbit(ReluSquare(-0.0f)));
  EXPECT_EQ(ReluSquare(std::numeric_limits<float>::infinity()),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(ReluSquare(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(ReluSquare(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(ReluSquare(1e-30f), 0.0f);  // underflows, as x * x does
}

}  // namespace
}  // namespace dte
