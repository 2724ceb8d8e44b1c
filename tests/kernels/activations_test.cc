// Differential tests of the activations (activations.h): the AVX-512 versions against the
// scalar twins, over ordinary values, the saturated ranges, tails of every length and NaN.

#include "kernels/activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu_features.h"

namespace dte {
namespace {

// Relative error in units of float epsilon, with values below 1e-30 compared absolutely.
double UlpError(float want, float got) {
  if (std::isnan(want)) return std::isnan(got) ? 0 : 1e9;
  const double diff = std::fabs(static_cast<double>(want) - got);
  return diff / (std::max(std::fabs(static_cast<double>(want)), 1e-30) * 1.1920929e-7);
}

std::vector<float> Inputs(std::mt19937& rng) {
  std::vector<float> x;
  std::uniform_real_distribution<float> small(-8.0f, 8.0f), wide(-120.0f, 120.0f);
  for (int i = 0; i < 2000; ++i) x.push_back(small(rng));
  for (int i = 0; i < 500; ++i) x.push_back(wide(rng));
  for (float v : {0.0f, -0.0f, 1e-8f, -1e-8f, 88.0f, -88.0f, 89.5f, -104.5f, 1e30f, -1e30f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    x.push_back(v);
  return x;
}

TEST(ActivationsTest, Avx512MatchesScalarTwin) {
  if (!IsaSupported(KernelIsa::kAvx512)) GTEST_SKIP() << "no AVX-512";
  const ActivationOps& fast = ActivationOpsFor(KernelIsa::kAvx512);
  std::mt19937 rng(21);
  const std::vector<float> x = Inputs(rng);
  std::vector<float> bias(x.size());
  std::uniform_real_distribution<float> b(-1.0f, 1.0f);
  for (float& v : bias) v = b(rng);
  const int64_t n = static_cast<int64_t>(x.size());
  double worst_sigmoid = 0, worst_decay = 0;
  const float* no_bias = nullptr;
  const float* with_bias = bias.data();
  for (const float* bp : {no_bias, with_bias}) {
    std::vector<float> want(n), got(n);
    scalar::SigmoidAdd(x.data(), bp, n, want.data());
    fast.sigmoid_add(x.data(), bp, n, got.data());
    for (int64_t i = 0; i < n; ++i) {
      const double e = UlpError(want[i], got[i]);
      worst_sigmoid = std::max(worst_sigmoid, e);
      EXPECT_LE(e, 4) << "sigmoid(" << x[i] << ") want " << want[i] << " got " << got[i];
    }
    scalar::ExpSigmoidAdd(x.data(), bp, -0.606531f, n, want.data());
    fast.exp_sigmoid_add(x.data(), bp, -0.606531f, n, got.data());
    for (int64_t i = 0; i < n; ++i) {
      const double e = UlpError(want[i], got[i]);
      worst_decay = std::max(worst_decay, e);
      EXPECT_LE(e, 4) << "decay(" << x[i] << ") want " << want[i] << " got " << got[i];
    }
  }
  RecordProperty("worst_sigmoid_ulp", std::to_string(worst_sigmoid));
  RecordProperty("worst_decay_ulp", std::to_string(worst_decay));
}

TEST(ActivationsTest, TailsAliasingAndNan) {
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    const ActivationOps& ops = ActivationOpsFor(isa);
    for (int64_t n = 0; n <= 40; ++n) {
      std::vector<float> x(n + 1, 0.0f), out(n + 1, 42.0f);
      for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i) - 20.0f;
      ops.sigmoid_add(x.data(), nullptr, n, out.data());
      EXPECT_EQ(out[n], 42.0f) << "wrote past the end, n=" << n;
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(out[i], 1 / (1 + std::exp(-x[i])), 1e-6);
      ops.sigmoid_add(x.data(), nullptr, n, x.data());  // in place
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(x[i], out[i]);
    }
    const float nan = std::numeric_limits<float>::quiet_NaN();
    float v[3] = {nan, 1.0f, -nan}, o[3];
    ops.sigmoid_add(v, nullptr, 3, o);
    EXPECT_TRUE(std::isnan(o[0]));
    EXPECT_TRUE(std::isnan(o[2]));
    ops.exp_sigmoid_add(v, nullptr, -0.5f, 3, o);
    EXPECT_TRUE(std::isnan(o[0]));
    EXPECT_NEAR(o[1], std::exp(-0.5f / (1 + std::exp(-1.0f))), 1e-6);
  }
}

TEST(ActivationsTest, SaturatesCleanly) {
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    const ActivationOps& ops = ActivationOpsFor(isa);
    const float inf = std::numeric_limits<float>::infinity();
    float v[4] = {-inf, inf, -200.0f, 200.0f}, o[4];
    ops.sigmoid_add(v, nullptr, 4, o);
    EXPECT_EQ(o[0], 0.0f);
    EXPECT_EQ(o[1], 1.0f);
    EXPECT_EQ(o[2], 0.0f);
    EXPECT_EQ(o[3], 1.0f);
  }
}

}  // namespace
}  // namespace dte
