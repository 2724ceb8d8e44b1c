#include "kernels/roofline.h"

#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu_features.h"

namespace dte {
namespace {

TEST(RooflineTest, SumKernelsAgreeWithTheScalarTwin) {
  std::vector<float> x(64 * 100);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 8) * 0.25f;
  const float expected = internal::SumScalar(x.data(), static_cast<int64_t>(x.size()));
  EXPECT_FLOAT_EQ(expected, 0.25f * 28 * (6400 / 8));
  if (IsaSupported(KernelIsa::kAvx2))
    EXPECT_FLOAT_EQ(internal::SumAvx2(x.data(), static_cast<int64_t>(x.size())), expected);
  if (IsaSupported(KernelIsa::kAvx512))
    EXPECT_FLOAT_EQ(internal::SumAvx512(x.data(), static_cast<int64_t>(x.size())), expected);
}

TEST(RooflineTest, ComputeLoopsCountTheirFlops) {
  float sink = 0;
  EXPECT_EQ(internal::FmaLoopScalar(10, &sink), 10.0 * 16 * 2);
  if (IsaSupported(KernelIsa::kAvx2)) EXPECT_EQ(internal::FmaLoopAvx2(10, &sink), 10.0 * 10 * 8 * 2);
  if (IsaSupported(KernelIsa::kAvx512)) {
    EXPECT_EQ(internal::FmaLoopAvx512(10, &sink), 10.0 * 12 * 16 * 2);
  }
  if (Bf16Supported()) EXPECT_EQ(internal::Bf16DotLoopAvx512(10, &sink), 10.0 * 12 * 16 * 4);
}

TEST(RooflineTest, MeasuresPositiveLimitsOnSmallArrays) {
  ThreadPool pool(2);
  RooflineOptions options;
  options.triad_elements = 1 << 16;
  options.triad_passes = 1;
  options.compute_seconds = 0.01;
  const Roofline r = MeasureRoofline(pool, options);
  EXPECT_EQ(r.threads, 2);
  EXPECT_GT(r.triad_gb_s, 0);
  EXPECT_GT(r.read_gb_s, 0);
  EXPECT_GT(r.fp32_fma_gflops, 0);
  EXPECT_EQ(r.bf16_dot_gflops.has_value(), Bf16Supported());
  EXPECT_FALSE(r.amx.empty());
}

}  // namespace
}  // namespace dte
