#pragma once
// Constants of rwkv.cpp's .bin model format, shared by its reader and writer.

#include <cstdint>
#include <optional>

#include "kernels/dtype.h"

namespace dte {

constexpr uint32_t kRwkvCppMagic = 0x67676d66;  // bytes "fmgg"
constexpr uint32_t kRwkvCppMaxNameLength = 1024;

// rwkv.cpp's own type numbers: 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 7 Q5_0, 8 Q5_1, 9 Q8_0.
std::optional<DType> DTypeFromRwkvCpp(uint32_t code);
std::optional<uint32_t> DTypeToRwkvCpp(DType type);

}  // namespace dte
