// Products of Q8_0 weights with int8-quantized inputs (MatMulPrecision::kQ8, matmul.h): the
// scalar twin, the reference input quantizer, and MatMulQ8On, which quantizes the inputs once
// on the calling thread and splits the weight rows over the pool.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/fp16.h"
#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"
#include "kernels/row_split.h"

namespace dte {
namespace internal {

void QuantizeInputsQ8Reference(const float* x, int64_t cols, Q8InputPair* out) {
  const int64_t blocks = cols / kQuantBlock;
  for (int64_t b = 0; b < blocks; ++b) {
    Q8InputPair& p = out[b / 2];
    const int half = static_cast<int>(b % 2);
    const float* xb = x + b * kQuantBlock;
    float amax = 0;
    for (int c = 0; c < kQuantBlock; ++c) amax = std::max(amax, std::fabs(xb[c]));
    const float d = amax / 127.0f;
    const float id = amax > 0 ? 127.0f / amax : 0.0f;
    int8_t* q = p.q + 32 * half;
    for (int c = 0; c < kQuantBlock; ++c) {
      q[c] = static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(xb[c] * id)));
    }
    for (int j = 0; j < 8; ++j) {
      p.bias[8 * half + j] = -128 * (q[4 * j] + q[4 * j + 1] + q[4 * j + 2] + q[4 * j + 3]);
      p.scale[8 * half + j] = d;
    }
  }
  if (blocks % 2 != 0) {
    Q8InputPair& p = out[blocks / 2];
    std::fill(p.q + 32, p.q + 64, int8_t{0});
    std::fill(p.bias + 8, p.bias + 16, 0);
    std::fill(p.scale + 8, p.scale + 16, 0.0f);
  }
}

}  // namespace internal

namespace {

// The scalar twin over rows [r0, r1): one exact integer sum per block and input.
void ScalarQ8Rows(const internal::MatMulArgs& a, const internal::Q8InputPair* in, int64_t stride,
                  int64_t r0, int64_t r1) {
  const int64_t blocks = a.cols / kQuantBlock;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = a.w + r * static_cast<int64_t>(a.row_bytes);
    for (int64_t i = 0; i < a.n; ++i) {
      float acc = 0;
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* blk = row + b * static_cast<int64_t>(sizeof(BlockQ8_0));
        uint16_t dh;
        std::memcpy(&dh, blk, 2);
        const int8_t* wq = reinterpret_cast<const int8_t*>(blk + 2);
        const internal::Q8InputPair& p = in[i * stride + b / 2];
        const int half = static_cast<int>(b % 2);
        int32_t sum = 0;
        for (int c = 0; c < kQuantBlock; ++c) sum += wq[c] * p.q[32 * half + c];
        acc += static_cast<float>(sum) * (Fp16ToFloat(dh) * p.scale[8 * half]);
      }
      a.y[i * a.rows + r] = acc;
    }
  }
}

void RunQ8(bool vectorized, const MatrixView& w, const float* x, int64_t n, float* y,
           ThreadPool* pool) {
  DTE_CHECK(n >= 0, "negative batch");
  DTE_CHECK(w.type == DType::kQ8_0, "kQ8 products need Q8_0 weights");
  const internal::MatMulArgs a = internal::ArgsFor(w, x, n, y);
  if (n == 0 || w.rows == 0) return;
  const int64_t pairs = internal::Q8PairsPerInput(w.cols);
  thread_local std::vector<internal::Q8InputPair> buffer;
  if (buffer.size() < static_cast<size_t>(n * pairs)) buffer.resize(static_cast<size_t>(n * pairs));
  internal::Q8InputPair* in = buffer.data();
  internal::QuantizeQ8Inputs(vectorized, a, in);
  auto rows = [&a, in, vectorized](int64_t begin, int64_t end, int64_t stream_end) {
    internal::MatMulArgs part = a;
    part.stream_end = stream_end;
    internal::Q8ProductRows(vectorized, part, in, begin, end);
  };
  internal::SplitRows(a, internal::kRowGrain, pool, rows);
}

}  // namespace

namespace internal {

int64_t Q8PairsPerInput(int64_t cols) { return (cols / kQuantBlock + 1) / 2; }

void QuantizeQ8Inputs(bool vectorized, const MatMulArgs& a, Q8InputPair* in) {
  const int64_t pairs = Q8PairsPerInput(a.cols);
  for (int64_t i = 0; i < a.n; ++i) {
    if (vectorized) {
      QuantizeInputsQ8Avx512(a.x + i * a.cols, a.cols, in + i * pairs);
    } else {
      QuantizeInputsQ8Reference(a.x + i * a.cols, a.cols, in + i * pairs);
    }
  }
}

void Q8ProductRows(bool vectorized, const MatMulArgs& a, const Q8InputPair* in, int64_t r0,
                   int64_t r1) {
  const int64_t pairs = Q8PairsPerInput(a.cols);
  if (!vectorized) {
    ScalarQ8Rows(a, in, pairs, r0, r1);
    return;
  }
  for (int64_t i0 = 0; i0 < a.n; i0 += kQ8MaxRowsInputs) {
    MatMulArgs part = a;
    part.n = std::min(kQ8MaxRowsInputs, a.n - i0);
    part.y = a.y + i0 * a.rows;
    MatMulQ8RowsAvx512Vnni(part, in + i0 * pairs, pairs, r0, r1);
  }
}

}  // namespace internal

namespace scalar {

void MatMulQ8(const MatrixView& w, const float* x, int64_t n, float* y) {
  RunQ8(/*vectorized=*/false, w, x, n, y, nullptr);
}

}  // namespace scalar

void MatMulQ8On(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
                ThreadPool* pool) {
  DTE_CHECK(n <= kQ8MaxInputs, "kQ8 products take at most kQ8MaxInputs inputs");
  switch (isa) {
    case KernelIsa::kScalar:
      RunQ8(/*vectorized=*/false, w, x, n, y, pool);
      return;
    case KernelIsa::kAvx512:
      DTE_CHECK(VnniSupported(), "AVX512_VNNI not supported by this CPU");
      RunQ8(/*vectorized=*/true, w, x, n, y, pool);
      return;
    case KernelIsa::kAvx2:
      break;
  }
  DTE_CHECK(false, "no kQ8 kernels for this family");
}

}  // namespace dte
