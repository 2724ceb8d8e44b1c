#pragma once
// Conversions between float rows and every weight DType (scalar reference code; the fast
// kernels in matmul_*.cc never call these per token).

#include <cstdint>

#include "kernels/dtype.h"

namespace dte {

// dst[0..n) = the weights of one row stored as `type` at src. n must be a multiple of the
// type's block size.
void DequantizeRow(DType type, const void* src, float* dst, int64_t n);

// Stores n floats as `type` at dst (DTypeRowBytes(type, n) bytes). Supports every DType;
// quantized types use round-to-nearest as ggml's reference quantizers do.
void QuantizeRow(DType type, const float* src, void* dst, int64_t n);

}  // namespace dte
