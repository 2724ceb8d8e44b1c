#include "kernels/cpu_features.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace dte {
namespace {

CpuFeatures Avx2Only() {
  CpuFeatures f;
  f.avx2 = f.fma = f.f16c = true;
  return f;
}

CpuFeatures Avx512() {
  CpuFeatures f = Avx2Only();
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  return f;
}

TEST(CpuFeaturesTest, IsaNeedsEveryExtension) {
  EXPECT_TRUE(IsaSupported(CpuFeatures{}, KernelIsa::kScalar));
  EXPECT_FALSE(IsaSupported(CpuFeatures{}, KernelIsa::kAvx2));
  CpuFeatures no_f16c = Avx2Only();
  no_f16c.f16c = false;
  EXPECT_FALSE(IsaSupported(no_f16c, KernelIsa::kAvx2));
  EXPECT_TRUE(IsaSupported(Avx2Only(), KernelIsa::kAvx2));
  EXPECT_FALSE(IsaSupported(Avx2Only(), KernelIsa::kAvx512));
  CpuFeatures no_vl = Avx512();
  no_vl.avx512vl = false;
  EXPECT_FALSE(IsaSupported(no_vl, KernelIsa::kAvx512));
  EXPECT_TRUE(IsaSupported(Avx512(), KernelIsa::kAvx512));
}

TEST(CpuFeaturesTest, BestIsa) {
  EXPECT_EQ(BestIsa(CpuFeatures{}), KernelIsa::kScalar);
  EXPECT_EQ(BestIsa(Avx2Only()), KernelIsa::kAvx2);
  EXPECT_EQ(BestIsa(Avx512()), KernelIsa::kAvx512);
}

TEST(CpuFeaturesTest, OverrideChoosesRequestedOrBestBelow) {
  EXPECT_EQ(ChooseIsa(Avx512(), nullptr), KernelIsa::kAvx512);
  EXPECT_EQ(ChooseIsa(Avx512(), ""), KernelIsa::kAvx512);
  EXPECT_EQ(ChooseIsa(Avx512(), "auto"), KernelIsa::kAvx512);
  EXPECT_EQ(ChooseIsa(Avx512(), "scalar"), KernelIsa::kScalar);
  EXPECT_EQ(ChooseIsa(Avx512(), "avx2"), KernelIsa::kAvx2);
  EXPECT_EQ(ChooseIsa(Avx512(), "avx512"), KernelIsa::kAvx512);
  EXPECT_EQ(ChooseIsa(Avx2Only(), "avx512"), KernelIsa::kAvx2);
  EXPECT_EQ(ChooseIsa(CpuFeatures{}, "avx512"), KernelIsa::kScalar);
  EXPECT_EQ(ChooseIsa(CpuFeatures{}, "avx2"), KernelIsa::kScalar);
  EXPECT_EQ(ChooseIsa(Avx2Only(), "neon"), KernelIsa::kAvx2);  // unknown: auto
}

TEST(CpuFeaturesTest, NamesRoundTrip) {
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    EXPECT_EQ(KernelIsaFromName(KernelIsaName(isa)), isa);
  }
  EXPECT_FALSE(KernelIsaFromName("auto").has_value());
  EXPECT_FALSE(KernelIsaFromName("AVX2").has_value());
}

TEST(CpuFeaturesTest, ActiveIsaFollowsEnvironment) {
  EXPECT_EQ(ActiveIsa(), ChooseIsa(HostCpuFeatures(), std::getenv("DTE_KERNELS")));
  EXPECT_TRUE(IsaSupported(ActiveIsa()));
  const std::string s = CpuFeaturesString();
  EXPECT_NE(s.find("(kernels: " + std::string(KernelIsaName(ActiveIsa())) + ", bf16: " +
                   std::string(Bf16PolicyName(ActiveBf16Policy())) + ", vnni: " +
                   std::string(VnniPolicyName(ActiveVnniPolicy())) + ")"),
            std::string::npos)
      << s;
}

TEST(CpuFeaturesTest, Bf16PolicyNeedsAvx512Bf16AndFollowsOverride) {
  CpuFeatures f;
  f.avx2 = f.fma = f.f16c = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  // No avx512_bf16: off whatever is asked.
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, nullptr), Bf16Policy::kOff);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, "all"), Bf16Policy::kOff);
  f.avx512_bf16 = true;
  EXPECT_TRUE(Bf16Supported(f));
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, nullptr), Bf16Policy::kAuto);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, ""), Bf16Policy::kAuto);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, "1"), Bf16Policy::kAuto);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, "auto"), Bf16Policy::kAuto);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, "0"), Bf16Policy::kOff);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, "off"), Bf16Policy::kOff);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, "all"), Bf16Policy::kAll);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx512, "bogus"), Bf16Policy::kAuto);
  // A forced older family turns it off (DTE_KERNELS=avx2 means no AVX-512 code at all).
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kAvx2, "all"), Bf16Policy::kOff);
  EXPECT_EQ(ChooseBf16Policy(f, KernelIsa::kScalar, nullptr), Bf16Policy::kOff);
  f.avx512dq = false;  // not the AVX-512 family any more
  EXPECT_FALSE(Bf16Supported(f));
}

TEST(CpuFeaturesTest, VnniPolicyNeedsAvx512VnniAndFollowsOverride) {
  CpuFeatures f;
  f.avx2 = f.fma = f.f16c = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  EXPECT_FALSE(VnniSupported(f));
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, nullptr), VnniPolicy::kOff);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, "auto"), VnniPolicy::kOff);
  f.avx512_vnni = true;
  EXPECT_TRUE(VnniSupported(f));
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, nullptr), VnniPolicy::kAuto);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, ""), VnniPolicy::kAuto);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, "1"), VnniPolicy::kAuto);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, "auto"), VnniPolicy::kAuto);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, "0"), VnniPolicy::kOff);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, "off"), VnniPolicy::kOff);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx512, "bogus"), VnniPolicy::kAuto);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kAvx2, nullptr), VnniPolicy::kOff);
  EXPECT_EQ(ChooseVnniPolicy(f, KernelIsa::kScalar, nullptr), VnniPolicy::kOff);
  EXPECT_EQ(VnniPolicyName(VnniPolicy::kOff), "off");
  EXPECT_EQ(VnniPolicyName(VnniPolicy::kAuto), "auto");
  f.avx512bw = false;
  EXPECT_FALSE(VnniSupported(f));
}

#if defined(__x86_64__)
// Our cpuid/xgetbv reading agrees with the compiler's own detection.
TEST(CpuFeaturesTest, AgreesWithCompilerDetection) {
  const CpuFeatures& f = HostCpuFeatures();
  EXPECT_EQ(f.avx2, static_cast<bool>(__builtin_cpu_supports("avx2")));
  EXPECT_EQ(f.fma, static_cast<bool>(__builtin_cpu_supports("fma")));
  EXPECT_EQ(f.avx512f, static_cast<bool>(__builtin_cpu_supports("avx512f")));
  EXPECT_EQ(f.avx512bw, static_cast<bool>(__builtin_cpu_supports("avx512bw")));
  EXPECT_EQ(f.avx512vl, static_cast<bool>(__builtin_cpu_supports("avx512vl")));
  EXPECT_EQ(f.avx512dq, static_cast<bool>(__builtin_cpu_supports("avx512dq")));
  EXPECT_EQ(f.avx512_vnni, static_cast<bool>(__builtin_cpu_supports("avx512vnni")));
  EXPECT_EQ(f.avx512_bf16, static_cast<bool>(__builtin_cpu_supports("avx512bf16")));
  RecordProperty("cpu_features", CpuFeaturesString());
}
#endif

}  // namespace
}  // namespace dte
