#include "kernels/cpu_features.h"

#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/log.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define DTE_X86 1
#endif

namespace dte {
namespace {

#if defined(DTE_X86)
struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs Cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// xgetbv by hand: _xgetbv needs -mxsave, and this file is compiled for the baseline ISA.
uint64_t ReadXcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool Bit(uint32_t reg, int bit) { return (reg >> bit) & 1u; }

CpuFeatures Detect() {
  CpuFeatures f;
  const uint32_t max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 1) return f;
  const CpuidRegs l1 = Cpuid(1, 0);
  const bool osxsave = Bit(l1.ecx, 27);
  if (!osxsave || !Bit(l1.ecx, 28)) return f;  // no AVX, or the OS does not save its state
  const uint64_t xcr0 = ReadXcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // XMM + YMM
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask + ZMM_Hi256 + Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;         // XTILECFG + XTILEDATA
  if (!os_avx) return f;
  f.fma = Bit(l1.ecx, 12);
  f.f16c = Bit(l1.ecx, 29);
  if (max_leaf < 7) return f;
  const CpuidRegs l7 = Cpuid(7, 0);
  const CpuidRegs l7s1 = l7.eax >= 1 ? Cpuid(7, 1) : CpuidRegs{};
  f.avx2 = Bit(l7.ebx, 5);
  if (os_avx512) {
    f.avx512f = Bit(l7.ebx, 16);
    f.avx512dq = Bit(l7.ebx, 17);
    f.avx512bw = Bit(l7.ebx, 30);
    f.avx512vl = Bit(l7.ebx, 31);
    f.avx512_vnni = Bit(l7.ecx, 11);
    f.avx512_fp16 = Bit(l7.edx, 23);
    f.avx512_bf16 = Bit(l7s1.eax, 5);
  }
  if (os_amx) {
    f.amx_bf16 = Bit(l7.edx, 22);
    f.amx_tile = Bit(l7.edx, 24);
    f.amx_int8 = Bit(l7.edx, 25);
  }
  return f;
}
#else
CpuFeatures Detect() { return CpuFeatures{}; }
#endif

}  // namespace

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

bool IsaSupported(const CpuFeatures& f, KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar:
      return true;
    case KernelIsa::kAvx2:
      return f.avx2 && f.fma && f.f16c;
    case KernelIsa::kAvx512:
      return IsaSupported(f, KernelIsa::kAvx2) && f.avx512f && f.avx512bw && f.avx512vl &&
             f.avx512dq;
  }
  return false;
}

bool IsaSupported(KernelIsa isa) { return IsaSupported(HostCpuFeatures(), isa); }

KernelIsa BestIsa(const CpuFeatures& f) {
  if (IsaSupported(f, KernelIsa::kAvx512)) return KernelIsa::kAvx512;
  if (IsaSupported(f, KernelIsa::kAvx2)) return KernelIsa::kAvx2;
  return KernelIsa::kScalar;
}

std::string_view KernelIsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar:
      return "scalar";
    case KernelIsa::kAvx2:
      return "avx2";
    case KernelIsa::kAvx512:
      return "avx512";
  }
  return "?";
}

std::optional<KernelIsa> KernelIsaFromName(std::string_view name) {
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (KernelIsaName(isa) == name) return isa;
  }
  return std::nullopt;
}

KernelIsa ChooseIsa(const CpuFeatures& features, const char* override_value) {
  const KernelIsa best = BestIsa(features);
  if (override_value == nullptr) return best;
  const std::string_view value(override_value);
  if (value.empty() || value == "auto") return best;
  const std::optional<KernelIsa> wanted = KernelIsaFromName(value);
  if (!wanted) {
    LogWarning("DTE_KERNELS=" + std::string(value) +
               " is not one of scalar|avx2|avx512|auto; using " + std::string(KernelIsaName(best)));
    return best;
  }
  KernelIsa isa = *wanted;
  while (!IsaSupported(features, isa)) isa = static_cast<KernelIsa>(static_cast<int>(isa) - 1);
  if (isa != *wanted) {
    LogWarning("DTE_KERNELS=" + std::string(value) + " is not supported by this CPU; using " +
               std::string(KernelIsaName(isa)));
  }
  return isa;
}

KernelIsa ActiveIsa() {
  static const KernelIsa isa = ChooseIsa(HostCpuFeatures(), std::getenv("DTE_KERNELS"));
  return isa;
}

bool Bf16Supported(const CpuFeatures& f) {
  return IsaSupported(f, KernelIsa::kAvx512) && f.avx512_bf16;
}

bool Bf16Supported() { return Bf16Supported(HostCpuFeatures()); }

Bf16Policy ChooseBf16Policy(const CpuFeatures& features, KernelIsa isa,
                            const char* override_value) {
  if (isa != KernelIsa::kAvx512 || !Bf16Supported(features)) return Bf16Policy::kOff;
  const std::string_view value(override_value == nullptr ? "" : override_value);
  if (value == "0" || value == "off") return Bf16Policy::kOff;
  if (value == "all") return Bf16Policy::kAll;
  if (!value.empty() && value != "1" && value != "auto") {
    LogWarning("DTE_KERNELS_BF16=" + std::string(value) +
               " is not one of 0|off|1|auto|all; using auto");
  }
  return Bf16Policy::kAuto;
}

Bf16Policy ActiveBf16Policy() {
  static const Bf16Policy policy =
      ChooseBf16Policy(HostCpuFeatures(), ActiveIsa(), std::getenv("DTE_KERNELS_BF16"));
  return policy;
}

std::string_view Bf16PolicyName(Bf16Policy policy) {
  switch (policy) {
    case Bf16Policy::kOff:
      return "off";
    case Bf16Policy::kAuto:
      return "auto";
    case Bf16Policy::kAll:
      return "all";
  }
  return "?";
}

bool VnniSupported(const CpuFeatures& f) {
  return IsaSupported(f, KernelIsa::kAvx512) && f.avx512_vnni;
}

bool VnniSupported() { return VnniSupported(HostCpuFeatures()); }

VnniPolicy ChooseVnniPolicy(const CpuFeatures& features, KernelIsa isa,
                            const char* override_value) {
  if (isa != KernelIsa::kAvx512 || !VnniSupported(features)) return VnniPolicy::kOff;
  const std::string_view value(override_value == nullptr ? "" : override_value);
  if (value == "0" || value == "off") return VnniPolicy::kOff;
  if (!value.empty() && value != "1" && value != "auto") {
    LogWarning("DTE_KERNELS_VNNI=" + std::string(value) +
               " is not one of 0|off|1|auto; using auto");
  }
  return VnniPolicy::kAuto;
}

VnniPolicy ActiveVnniPolicy() {
  static const VnniPolicy policy =
      ChooseVnniPolicy(HostCpuFeatures(), ActiveIsa(), std::getenv("DTE_KERNELS_VNNI"));
  return policy;
}

std::string_view VnniPolicyName(VnniPolicy policy) {
  return policy == VnniPolicy::kOff ? "off" : "auto";
}

std::string CpuFeaturesString() {
  const CpuFeatures& f = HostCpuFeatures();
  std::string s;
  auto add = [&s](bool has, const char* name) {
    if (!has) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512dq, "avx512dq");
  add(f.avx512_bf16, "avx512_bf16");
  add(f.avx512_vnni, "avx512_vnni");
  add(f.avx512_fp16, "avx512_fp16");
  add(f.amx_tile, "amx_tile");
  add(f.amx_int8, "amx_int8");
  add(f.amx_bf16, "amx_bf16");
  if (s.empty()) s = "baseline";
  s += " (kernels: ";
  s += KernelIsaName(ActiveIsa());
  s += ", bf16: ";
  s += Bf16PolicyName(ActiveBf16Policy());
  s += ", vnni: ";
  s += VnniPolicyName(ActiveVnniPolicy());
  s += ')';
  return s;
}

}  // namespace dte
