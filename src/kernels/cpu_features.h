#pragma once
// The one place that asks the CPU what it can do (cpuid + xgetbv), once per process, and picks
// the instruction set the weight kernels use (see matmul.h).
//
// DTE_KERNELS=scalar|avx2|avx512 (or auto, the default) forces a path, for tests and
// benchmarks. A forced path the CPU lacks falls back to the best one it has, with a warning.
//
// Thread-safety: all functions may be called from any thread; detection runs once.

#include <optional>
#include <string>
#include <string_view>

namespace dte {

// What the CPU and the OS together support. An extension counts only when the OS also saves
// its registers (XCR0), so e.g. avx512f is false under an OS that does not enable ZMM state.
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_bf16 = false;
  bool avx512_vnni = false;
  bool avx512_fp16 = false;
  bool amx_tile = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
};

// Kernel families, in increasing order of capability.
//   kAvx2:   AVX2 + FMA + F16C (Haswell, Zen 1 and later).
//   kAvx512: kAvx2 plus AVX-512 F/BW/VL/DQ (Skylake-X, Zen 4 and later).
enum class KernelIsa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// The features of this machine (detected once).
const CpuFeatures& HostCpuFeatures();

// Whether `features` has everything the `isa` kernels need.
bool IsaSupported(const CpuFeatures& features, KernelIsa isa);
// Whether this machine can run the `isa` kernels.
bool IsaSupported(KernelIsa isa);

// The best family `features` supports.
KernelIsa BestIsa(const CpuFeatures& features);

// "scalar", "avx2", "avx512".
std::string_view KernelIsaName(KernelIsa isa);
// Parses a family name; nullopt for anything else (including "auto" and "").
std::optional<KernelIsa> KernelIsaFromName(std::string_view name);

// The family chosen for `features` when DTE_KERNELS holds `override_value` (null when unset):
// the requested one if supported, else the best supported one below it; the best one for
// null, "" or "auto". Pure, so tests can exercise every case. An unknown name means auto.
KernelIsa ChooseIsa(const CpuFeatures& features, const char* override_value);

// The family the dispatched kernels use in this process: ChooseIsa(HostCpuFeatures(),
// getenv("DTE_KERNELS")), decided on first call and fixed afterwards.
KernelIsa ActiveIsa();

// When the dispatched MatMul may use bf16 inputs (AVX512_BF16 dot products, two multiply-adds
// per lane per instruction, accumulating in float; see matmul.h for the numerics).
//   kOff:   never: every product keeps float inputs.
//   kAuto:  for weights that are not F32 (F16, BF16, quantized): their own rounding is already
//           of the order of bf16's; F32 weights (the exact reference files) stay in float.
//   kAll:   for every weight type, F32 included.
// DTE_KERNELS_BF16=0|off, 1|auto (the default), all. Needs the AVX-512 family to be active
// and avx512_bf16; otherwise kOff whatever the variable says.
enum class Bf16Policy { kOff = 0, kAuto = 1, kAll = 2 };

// Whether `features` can run the BF16 GEMM (the AVX-512 family plus avx512_bf16).
bool Bf16Supported(const CpuFeatures& features);
bool Bf16Supported();

// The policy for `features` with kernel family `isa` active and DTE_KERNELS_BF16 holding
// `override_value` (null when unset). Pure; an unknown value means auto (with a warning).
Bf16Policy ChooseBf16Policy(const CpuFeatures& features, KernelIsa isa,
                            const char* override_value);

// ChooseBf16Policy(HostCpuFeatures(), ActiveIsa(), getenv("DTE_KERNELS_BF16")), decided once.
Bf16Policy ActiveBf16Policy();

// "off", "auto", "all".
std::string_view Bf16PolicyName(Bf16Policy policy);

// When a product with Q8_0 weights and few inputs (MatVec, batched decode of up to
// kQ8MaxInputs sequences; matmul.h) may quantize its inputs to int8 and use AVX512_VNNI integer
// dot products (vpdpbusd) instead of dequantizing every weight to float.
//   kOff:  never: the float kernels (weights dequantized exactly, inputs in float).
//   kAuto: Q8_0 weights with at most kQ8MaxInputs inputs (see matmul.h for the numerics).
// DTE_KERNELS_VNNI=0|off, 1|auto (the default). Needs the AVX-512 family to be active and
// avx512_vnni; otherwise kOff whatever the variable says.
enum class VnniPolicy { kOff = 0, kAuto = 1 };

// Whether `features` can run the VNNI kernels (the AVX-512 family plus avx512_vnni).
bool VnniSupported(const CpuFeatures& features);
bool VnniSupported();

// The policy for `features` with family `isa` active and DTE_KERNELS_VNNI holding
// `override_value` (null when unset). Pure; an unknown value means auto (with a warning).
VnniPolicy ChooseVnniPolicy(const CpuFeatures& features, KernelIsa isa,
                            const char* override_value);

// ChooseVnniPolicy(HostCpuFeatures(), ActiveIsa(), getenv("DTE_KERNELS_VNNI")), decided once.
VnniPolicy ActiveVnniPolicy();

// "off", "auto".
std::string_view VnniPolicyName(VnniPolicy policy);

// One line for logs and /admin:
// "avx2 fma f16c avx512f ... (kernels: avx512, bf16: auto, vnni: auto)".
std::string CpuFeaturesString();

}  // namespace dte
