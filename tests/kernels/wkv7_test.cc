// Differential tests: the AVX-512 WKV7 step against its scalar twin, over many tokens, for
// head sizes it handles (multiples of 16) and ones it leaves to the twin.

#include "kernels/wkv7.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace dte {
namespace {

// One token's inputs with the value ranges the forward pass produces.
struct Token {
  std::vector<float> r, k, v, decay, kk, a;
};

Token RandomToken(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f), pos(0.0f, 1.0f);
  Token t;
  for (auto* vec : {&t.r, &t.k, &t.v, &t.decay, &t.kk, &t.a}) vec->resize(n);
  float norm = 0;
  for (int64_t j = 0; j < n; ++j) {
    t.r[j] = unit(rng);
    t.k[j] = unit(rng);
    t.v[j] = 3 * unit(rng);
    t.decay[j] = std::exp(-0.606531f / (1.0f + std::exp(-4 * unit(rng))));  // (0.55, 1)
    t.kk[j] = unit(rng);
    t.a[j] = pos(rng);
    norm += t.kk[j] * t.kk[j];
  }
  for (float& x : t.kk) x /= std::sqrt(norm);  // kk is L2-normalized per head
  return t;
}

void ExpectNear(const std::vector<float>& want, const std::vector<float>& got,
                const std::string& what) {
  ASSERT_EQ(want.size(), got.size());
  int failures = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 2e-5 * (1.0 + std::fabs(want[i]));
    if (!(std::fabs(static_cast<double>(want[i]) - got[i]) <= tol) && ++failures <= 5) {
      ADD_FAILURE() << what << " [" << i << "]: want " << want[i] << " got " << got[i];
    }
  }
  EXPECT_EQ(failures, 0) << what;
}

class Wkv7Test : public ::testing::TestWithParam<int64_t> {};

TEST_P(Wkv7Test, FastMatchesScalarTwinOverManyTokens) {
  const int64_t n = GetParam();
  std::mt19937 rng(static_cast<uint32_t>(n));
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> s0(n * n);
  for (float& x : s0) x = unit(rng);
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    std::vector<float> want_s = s0, got_s = s0, want_y(n), got_y(n, NAN);
    std::mt19937 token_rng(5);
    for (int t = 0; t < 40; ++t) {
      const Token x = RandomToken(n, token_rng);
      scalar::Wkv7Step(n, want_s.data(), x.r.data(), x.k.data(), x.v.data(), x.decay.data(),
                       x.kk.data(), x.a.data(), want_y.data());
      Wkv7StepOn(isa, n, got_s.data(), x.r.data(), x.k.data(), x.v.data(), x.decay.data(),
                 x.kk.data(), x.a.data(), got_y.data());
      const std::string what = std::string(KernelIsaName(isa)) + " N=" + std::to_string(n) +
                               " token " + std::to_string(t);
      ExpectNear(want_y, got_y, what + " y");
      ExpectNear(want_s, got_s, what + " S");
      if (HasFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HeadSizes, Wkv7Test, ::testing::Values(8, 16, 24, 32, 64, 128),
                         [](const auto& info) { return "N" + std::to_string(info.param); });

// The dispatched step is one of the families: the same as the active one, bit for bit.
TEST(Wkv7DispatchTest, MatchesActiveFamily) {
  const int64_t n = 64;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> a(n * n), b(n * n), ya(n), yb(n);
  for (float& x : a) x = unit(rng);
  b = a;
  const Token x = RandomToken(n, rng);
  Wkv7Step(n, a.data(), x.r.data(), x.k.data(), x.v.data(), x.decay.data(), x.kk.data(),
           x.a.data(), ya.data());
  Wkv7StepOn(ActiveIsa(), n, b.data(), x.r.data(), x.k.data(), x.v.data(), x.decay.data(),
             x.kk.data(), x.a.data(), yb.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(ya, yb);
}

}  // namespace
}  // namespace dte
