#include "kernels/matmul.h"

#include <algorithm>
#include <vector>

#include "base/check.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"

namespace dte {
namespace scalar {

void MatVec(const MatrixView& w, const float* x, float* y) { MatMul(w, x, 1, y); }

void MatMul(const MatrixView& w, const float* x, int64_t n, float* y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    DequantizeRow(w.type, w.row(r), row.data(), w.cols);
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * w.cols;
      float acc = 0;
      for (int64_t c = 0; c < w.cols; ++c) acc += row[c] * xi[c];
      y[i * w.rows + r] = acc;
    }
  }
}

}  // namespace scalar

namespace {

using RowsFn = void (*)(const internal::MatMulArgs& a, int64_t row_begin, int64_t row_end);

// The scalar twin over a row range, with a per-thread row buffer (grown once, then reused).
void ScalarRows(const internal::MatMulArgs& a, int64_t row_begin, int64_t row_end) {
  thread_local std::vector<float> row;
  if (row.size() < static_cast<size_t>(a.cols)) row.resize(static_cast<size_t>(a.cols));
  for (int64_t r = row_begin; r < row_end; ++r) {
    DequantizeRow(a.type, a.w + r * static_cast<int64_t>(a.row_bytes), row.data(), a.cols);
    for (int64_t i = 0; i < a.n; ++i) {
      const float* xi = a.x + i * a.cols;
      float acc = 0;
      for (int64_t c = 0; c < a.cols; ++c) acc += row[c] * xi[c];
      a.y[i * a.rows + r] = acc;
    }
  }
}

// Whether `isa` has a fast kernel for `type`. Every family covers every DType today; a new
// DType without one runs the scalar twin instead.
bool HasFastKernel(KernelIsa isa, DType type) {
  switch (type) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
      return isa != KernelIsa::kScalar;
  }
  return false;
}

RowsFn RowsFor(KernelIsa isa, DType type) {
  if (!HasFastKernel(isa, type)) return ScalarRows;
  switch (isa) {
    case KernelIsa::kAvx512:
      return internal::MatMulRowsAvx512;
    case KernelIsa::kAvx2:
      return internal::MatMulRowsAvx2;
    case KernelIsa::kScalar:
      break;
  }
  return ScalarRows;
}

// Kernels of the active family per DType, chosen once.
struct ActiveKernels {
  RowsFn by_type[32] = {};
  ActiveKernels() {
    const KernelIsa isa = ActiveIsa();
    for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1,
                    DType::kQ5_0, DType::kQ5_1, DType::kQ8_0}) {
      by_type[static_cast<uint32_t>(t)] = RowsFor(isa, t);
    }
  }
};

RowsFn ActiveRowsFor(DType type) {
  static const ActiveKernels kernels;
  const auto index = static_cast<uint32_t>(type);
  DTE_CHECK(index < 32 && kernels.by_type[index] != nullptr, "unknown dtype");
  return kernels.by_type[index];
}

// Work (multiply-adds) below which a chunk is not worth handing to another thread.
constexpr int64_t kMinChunkWork = int64_t{1} << 16;
// Row ranges are multiples of this, so kernel row tiles (4) never straddle two threads.
constexpr int64_t kRowGrain = 8;

void Run(RowsFn fn, const MatrixView& w, const float* x, int64_t n, float* y, ThreadPool* pool) {
  DTE_CHECK(n >= 0, "negative batch");
  if (n == 0 || w.rows == 0) return;
  internal::MatMulArgs a;
  a.type = w.type;
  a.rows = w.rows;
  a.cols = w.cols;
  a.row_bytes = w.row_bytes();  // CHECKs cols against the block size
  a.w = static_cast<const uint8_t*>(w.data);
  a.x = x;
  a.n = n;
  a.y = y;
  if (pool == nullptr || pool->size() == 1) {
    fn(a, 0, a.rows);
    return;
  }
  const int64_t work_per_row = std::max<int64_t>(1, a.cols * n);
  int64_t grain = (kMinChunkWork + work_per_row - 1) / work_per_row;
  grain = std::max(kRowGrain, (grain + kRowGrain - 1) / kRowGrain * kRowGrain);
  pool->ParallelFor(
      a.rows, [fn, &a](int64_t begin, int64_t end) { fn(a, begin, end); }, grain);
}

}  // namespace

void MatVec(const MatrixView& w, const float* x, float* y, ThreadPool* pool) {
  Run(ActiveRowsFor(w.type), w, x, 1, y, pool);
}

void MatMul(const MatrixView& w, const float* x, int64_t n, float* y, ThreadPool* pool) {
  Run(ActiveRowsFor(w.type), w, x, n, y, pool);
}

void MatMulOn(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
              ThreadPool* pool) {
  DTE_CHECK(IsaSupported(isa), "kernel family not supported by this CPU");
  Run(RowsFor(isa, w.type), w, x, n, y, pool);
}

}  // namespace dte
