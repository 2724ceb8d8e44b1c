#pragma once
// Element types of weight tensors, numbered as ggml numbers them (GGUF uses these numbers;
// rwkv.cpp .bin files have their own, mapped by their reader),
// and ggml's block layouts for the quantized ones (32 weights per block).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dte {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kBF16 = 30,
};

// Number of weights per block (1 for float types, 32 for quantized ones).
int64_t DTypeBlockSize(DType t);
// Bytes per block.
size_t DTypeBlockBytes(DType t);
// Bytes taken by n weights; n must be a multiple of the block size.
size_t DTypeRowBytes(DType t, int64_t n);
bool DTypeIsQuantized(DType t);
// "f32", "f16", "bf16", "q4_0", ... (lower case, as the CLI spells them).
std::string_view DTypeName(DType t);
std::optional<DType> DTypeFromName(std::string_view name);
// From the ggml type number used by GGUF (F32=0 F16=1 Q4_0=2 Q4_1=3 Q5_0=6 Q5_1=7 Q8_0=8 BF16=30).
std::optional<DType> DTypeFromGgml(uint32_t ggml_type);

// ggml block layouts.
constexpr int kQuantBlock = 32;
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[16]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ5_1 { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);

}  // namespace dte
