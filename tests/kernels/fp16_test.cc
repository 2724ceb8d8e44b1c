// fp16.h against the hardware (F16C) where present and against independent references.

#include "kernels/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dte {
namespace {

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

float FromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

bool HalfIsNan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

#if defined(__x86_64__)
// Built for F16C on this function only; called only when the CPU has it.
__attribute__((target("f16c"))) float HardwareHalfToFloat(uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) uint16_t HardwareFloatToHalf(float f) {
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
#endif

TEST(Fp16Test, ExhaustiveHalfToFloatMatchesHardware) {
#if defined(__x86_64__)
  if (!HostCpuFeatures().f16c) GTEST_SKIP() << "no F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float want = HardwareHalfToFloat(static_cast<uint16_t>(h));
    const float got = Fp16ToFloat(static_cast<uint16_t>(h));
    if (HalfIsNan(static_cast<uint16_t>(h))) {
      ASSERT_TRUE(std::isnan(got)) << h;
      // Sign and payload kept (hardware also sets the quiet bit of signalling NaNs).
      ASSERT_EQ(Bits(got) | 0x00400000u, Bits(want) | 0x00400000u) << h;
    } else {
      ASSERT_EQ(Bits(got), Bits(want)) << "half 0x" << std::hex << h;
    }
  }
#else
  GTEST_SKIP() << "not x86";
#endif
}

TEST(Fp16Test, ExhaustiveHalfRoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto half = static_cast<uint16_t>(h);
    if (HalfIsNan(half)) {
      EXPECT_TRUE(HalfIsNan(FloatToFp16(Fp16ToFloat(half))));
    } else {
      ASSERT_EQ(FloatToFp16(Fp16ToFloat(half)), half) << h;
    }
  }
}

// Many floats across the whole range (every 251st bit pattern, plus the neighbourhood of every
// half value: exact, halfway points and one float either side of them).
TEST(Fp16Test, FloatToHalfMatchesHardwareRounding) {
#if defined(__x86_64__)
  if (!HostCpuFeatures().f16c) GTEST_SKIP() << "no F16C";
  auto check = [](float f) {
    const uint16_t want = HardwareFloatToHalf(f);
    const uint16_t got = FloatToFp16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(HalfIsNan(got)) << Bits(f);
    } else {
      ASSERT_EQ(got, want) << "float bits 0x" << std::hex << Bits(f);
    }
  };
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 251) check(FromBits(static_cast<uint32_t>(b)));
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const float lo = Fp16ToFloat(static_cast<uint16_t>(h));
    const float hi = Fp16ToFloat(static_cast<uint16_t>(h + 1));    // 0x7c00: +inf
    const float mid = h + 1 == 0x7c00 ? 65520.0f : (lo + hi) / 2;  // exact in float
    for (float f : {lo, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
      check(f);
      check(-f);
    }
  }
#else
  GTEST_SKIP() << "not x86";
#endif
}

TEST(Bf16Test, ExhaustiveBf16ToFloatIsTheHighHalf) {
  for (uint32_t b = 0; b < 65536; ++b) {
    ASSERT_EQ(Bits(Bf16ToFloat(static_cast<uint16_t>(b))), b << 16);
  }
}

// Value of a bf16 pattern, computed as if the exponent were unbounded (so 0x7f80 counts as
// 2^128, the overflow neighbour of the largest finite bf16).
double Bf16Value(uint32_t b) {
  const int e = static_cast<int>((b >> 7) & 0xff);
  const double m = static_cast<double>(b & 0x7f);
  const double mag = e == 0 ? std::ldexp(m / 128, -126) : std::ldexp(1 + m / 128, e - 127);
  return (b & 0x8000) ? -mag : mag;
}

// Round to nearest, ties to even, checked against the two neighbouring bf16 values.
TEST(Bf16Test, FloatToBf16RoundsToNearestEven) {
  for (uint64_t i = 0; i < (uint64_t{1} << 32); i += 97) {
    const uint32_t bits = static_cast<uint32_t>(i);
    const float f = FromBits(bits);
    const uint16_t got = FloatToBf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(Bf16ToFloat(got)));
      continue;
    }
    if (std::isinf(f)) {
      ASSERT_EQ(got, bits >> 16);
      continue;
    }
    const uint32_t down = bits >> 16, up = down + 1;
    const double d_down = std::fabs(Bf16Value(down) - f), d_up = std::fabs(Bf16Value(up) - f);
    const uint32_t want = d_down < d_up ? down : d_up < d_down ? up : ((down & 1) ? up : down);
    ASSERT_EQ(got, want) << "float bits 0x" << std::hex << bits;
  }
}

}  // namespace
}  // namespace dte
