#include "kernels/matmul.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/check.h"
#include "kernels/fp16.h"
#include "kernels/matmul_internal.h"
#include "kernels/quant.h"
#include "kernels/row_split.h"

namespace dte {
namespace {

float RoundToBf16(float v) { return Bf16ToFloat(FloatToBf16(v)); }

// y[i][r] for rows [r0, r1): dequantize each row (rounded to bf16 if asked), then plain float
// dot products summed in order. x is already rounded when bf16 is.
void ReferenceRows(DType type, const uint8_t* w, size_t row_bytes, int64_t rows, int64_t cols,
                   const float* x, int64_t n, float* y, int64_t r0, int64_t r1, bool bf16,
                   std::vector<float>& row) {
  if (row.size() < static_cast<size_t>(cols)) row.resize(static_cast<size_t>(cols));
  for (int64_t r = r0; r < r1; ++r) {
    DequantizeRow(type, w + r * static_cast<int64_t>(row_bytes), row.data(), cols);
    if (bf16) {
      for (int64_t c = 0; c < cols; ++c) row[c] = RoundToBf16(row[c]);
    }
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * cols;
      float acc = 0;
      for (int64_t c = 0; c < cols; ++c) acc += row[c] * xi[c];
      y[i * rows + r] = acc;
    }
  }
}

std::vector<float> RoundedToBf16(const float* x, size_t count) {
  std::vector<float> out(x, x + count);
  for (float& v : out) v = RoundToBf16(v);
  return out;
}

}  // namespace

namespace scalar {

void MatVec(const MatrixView& w, const float* x, float* y) { MatMul(w, x, 1, y); }

void MatMul(const MatrixView& w, const float* x, int64_t n, float* y) {
  std::vector<float> row;
  ReferenceRows(w.type, static_cast<const uint8_t*>(w.data), w.row_bytes(), w.rows, w.cols, x, n,
                y, 0, w.rows, /*bf16=*/false, row);
}

void MatMulBf16(const MatrixView& w, const float* x, int64_t n, float* y) {
  const std::vector<float> xr = RoundedToBf16(x, static_cast<size_t>(n * w.cols));
  std::vector<float> row;
  ReferenceRows(w.type, static_cast<const uint8_t*>(w.data), w.row_bytes(), w.rows, w.cols,
                xr.data(), n, y, 0, w.rows, /*bf16=*/true, row);
}

}  // namespace scalar

namespace {

using RowsFn = void (*)(const internal::MatMulArgs& a, int64_t row_begin, int64_t row_end);

// The scalar twin over a row range, with a per-thread row buffer (grown once, then reused).
void ScalarRows(const internal::MatMulArgs& a, int64_t row_begin, int64_t row_end) {
  thread_local std::vector<float> row;
  ReferenceRows(a.type, a.w, a.row_bytes, a.rows, a.cols, a.x, a.n, a.y, row_begin, row_end,
                /*bf16=*/false, row);
}

// The bf16 twin over a row range; a.x is already rounded to bf16.
void ScalarBf16Rows(const internal::MatMulArgs& a, int64_t row_begin, int64_t row_end) {
  thread_local std::vector<float> row;
  ReferenceRows(a.type, a.w, a.row_bytes, a.rows, a.cols, a.x, a.n, a.y, row_begin, row_end,
                /*bf16=*/true, row);
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


// Fewest inputs for which the AVX-512 family uses the float packed GEMM instead of the row tiles
// of matmul_tiles.h (which pay a horizontal sum per row and input, but need no broadcasts).
// Below two full groups of 16 the GEMM does one broadcast per FMA, and Zen 5 issues those
// broadcasts at about one per cycle, half the FMA rate: single-thread 768x768 F16, tiles vs
// GEMM, GFLOP/s: n=8 175 vs 94, n=16 ~190 vs 184, n=32 204 vs 226, n=64 214 vs 239.
constexpr int64_t kGemmMinInputs = 32;



// The pool's own chunks (at most 4 per thread) in multiples of `row_grain`, each at least
// kMinChunkWork multiply-adds: for the packed GEMM, whose row tiles are long-running and prefetch
// the next tile of their range (guided ranges, row_split.h's predecessor, measured 0-2 % slower
// at batch 64, near noise).
template <class Fn>
void SplitRowsChunked(const internal::MatMulArgs& a, int64_t row_grain, ThreadPool* pool, Fn fn) {
  if (pool == nullptr || pool->size() == 1) {
    fn(int64_t{0}, a.rows);
    return;
  }
  const int64_t work_per_row = std::max<int64_t>(1, a.cols * a.n);
  int64_t grain = (internal::kMinChunkWork + work_per_row - 1) / work_per_row;
  grain = std::max(row_grain, (grain + row_grain - 1) / row_grain * row_grain);
  pool->ParallelFor(a.rows, fn, grain);
}

void Run(RowsFn fn, const MatrixView& w, const float* x, int64_t n, float* y, ThreadPool* pool) {
  DTE_CHECK(n >= 0, "negative batch");
  if (n == 0 || w.rows == 0) return;
  const internal::MatMulArgs a = internal::ArgsFor(w, x, n, y);
  internal::SplitRows(a, internal::kRowGrain, pool,
                      [fn, &a](int64_t begin, int64_t end, int64_t stream_end) {
                        internal::MatMulArgs part = a;
                        part.stream_end = stream_end;
                        fn(part, begin, end);
                      });
}

int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// The packed GEMM (matmul_internal.h): pack the inputs once (groups split over the pool), then
// every thread multiplies its rows with all of them. The packed buffer belongs to the calling
// thread and is reused by its later calls.
void RunGemm(internal::GemmPrecision precision, const MatrixView& w, const float* x, int64_t n,
             float* y, ThreadPool* pool) {
  DTE_CHECK(n >= 0, "negative batch");
  if (n == 0 || w.rows == 0) return;
  const internal::MatMulArgs a = internal::ArgsFor(w, x, n, y);
  const int64_t lanes = internal::kGemmGroup;
  const int64_t groups = (n + lanes - 1) / lanes;
  const int64_t per_lane = precision == internal::GemmPrecision::kF32
                               ? RoundUp(w.cols, lanes)
                               : RoundUp((w.cols + 1) / 2, lanes);  // bf16 pairs
  internal::GemmInputs in;
  in.precision = precision;
  in.group_stride = per_lane * lanes;
  thread_local std::vector<float> buffer;
  const size_t floats = static_cast<size_t>(groups * in.group_stride) + 16;
  if (buffer.size() < floats) buffer.resize(floats);
  float* packed = buffer.data();
  packed += (16 - (reinterpret_cast<uintptr_t>(packed) / sizeof(float)) % 16) % 16;  // 64 B
  in.data = packed;
  auto pack = [&](int64_t g0, int64_t g1) {
    internal::PackInputsAvx512(precision, x, n, w.cols, in.group_stride, g0, g1, packed);
  };
  if (pool != nullptr && groups > 1) {
    pool->ParallelFor(groups, pack);
  } else {
    pack(0, groups);
  }
  SplitRowsChunked(a, internal::kGemmRowTile, pool,
            [&a, &in](int64_t begin, int64_t end) { internal::GemmRowsAvx512(a, in, begin, end); });
}

bool Bf16AllowedFor(Bf16Policy policy, DType type) {
  switch (policy) {
    case Bf16Policy::kOff:
      return false;
    case Bf16Policy::kAuto:
      return type != DType::kF32;
    case Bf16Policy::kAll:
      return true;
  }
  return false;
}

}  // namespace

MatMulPrecision ActiveMatMulPrecision(DType type, int64_t n) {
  if (type == DType::kQ8_0 && n <= kQ8MaxInputs && ActiveVnniPolicy() == VnniPolicy::kAuto) {
    return MatMulPrecision::kQ8;
  }
  if (n < kBf16MinInputs || !Bf16AllowedFor(ActiveBf16Policy(), type)) {
    return MatMulPrecision::kF32;
  }
  return MatMulPrecision::kBf16;
}

void MatVec(const MatrixView& w, const float* x, float* y, ThreadPool* pool) {
  MatMul(w, x, 1, y, pool);
}

void MatMul(const MatrixView& w, const float* x, int64_t n, float* y, ThreadPool* pool) {
  switch (ActiveMatMulPrecision(w.type, n)) {
    case MatMulPrecision::kBf16:
      RunGemm(internal::GemmPrecision::kBf16, w, x, n, y, pool);
      return;
    case MatMulPrecision::kQ8:
      MatMulQ8On(KernelIsa::kAvx512, w, x, n, y, pool);
      return;
    case MatMulPrecision::kF32:
      break;
  }
  if (ActiveIsa() == KernelIsa::kAvx512 && n >= kGemmMinInputs) {
    RunGemm(internal::GemmPrecision::kF32, w, x, n, y, pool);
    return;
  }
  Run(ActiveRowsFor(w.type), w, x, n, y, pool);
}

void MatMulMany(std::span<const MatMulTask> tasks, int64_t n, ThreadPool* pool) {
  DTE_CHECK(n >= 0, "negative batch");
  if (n > kManyMaxInputs || pool == nullptr || pool->size() == 1 || tasks.size() < 2) {
    for (const MatMulTask& t : tasks) MatMul(t.w, t.x, n, t.y, pool);
    return;
  }
  if (n == 0) return;
  // Each product's rows as one range of a shared row space; kQ8 inputs quantized first.
  struct Part {
    internal::MatMulArgs a;
    RowsFn rows = nullptr;                      // kF32
    const internal::Q8InputPair* q8 = nullptr;  // kQ8
    int64_t begin = 0;                          // first row in the shared space
  };
  thread_local std::vector<Part> parts;
  thread_local std::vector<internal::Q8InputPair> q8_buffer;
  parts.clear();
  size_t q8_records = 0;
  for (const MatMulTask& t : tasks) {
    if (ActiveMatMulPrecision(t.w.type, n) == MatMulPrecision::kQ8) {
      q8_records += static_cast<size_t>(n * internal::Q8PairsPerInput(t.w.cols));
    }
  }
  if (q8_buffer.size() < q8_records) q8_buffer.resize(q8_records);
  int64_t total = 0, work = 0;
  size_t q8_used = 0;
  for (const MatMulTask& t : tasks) {
    if (t.w.rows == 0) continue;
    Part p;
    p.a = internal::ArgsFor(t.w, t.x, n, t.y);
    p.begin = total;
    // ActiveMatMulPrecision is kF32 or kQ8 for so few inputs (kBf16MinInputs > kManyMaxInputs).
    if (ActiveMatMulPrecision(t.w.type, n) == MatMulPrecision::kQ8) {
      internal::Q8InputPair* in = q8_buffer.data() + q8_used;
      internal::QuantizeQ8Inputs(/*vectorized=*/true, p.a, in);
      q8_used += static_cast<size_t>(n * internal::Q8PairsPerInput(t.w.cols));
      p.q8 = in;
    } else {
      p.rows = ActiveRowsFor(t.w.type);
    }
    parts.push_back(p);
    total += t.w.rows;
    work += t.w.rows * t.w.cols * n;
  }
  static_assert(kBf16MinInputs > kManyMaxInputs);
  const Part* first = parts.data();
  const Part* last = parts.data() + parts.size();
  auto run = [first, last](int64_t begin, int64_t end, int64_t stream_end) {
    for (const Part* p = first; p != last; ++p) {
      const int64_t r0 = std::max(begin, p->begin) - p->begin;
      const int64_t r1 = std::min(end, p->begin + p->a.rows) - p->begin;
      if (r0 >= r1) continue;
      internal::MatMulArgs a = p->a;
      a.stream_end = std::min(stream_end, p->begin + p->a.rows) - p->begin;
      if (p->q8 != nullptr) {
        internal::Q8ProductRows(/*vectorized=*/true, a, p->q8, r0, r1);
      } else {
        p->rows(a, r0, r1);
      }
    }
  };
  const int64_t work_per_row = std::max<int64_t>(1, work / std::max<int64_t>(1, total));
  internal::SplitRowsStealing(total, internal::kRowGrain, internal::kMinChunkWork / work_per_row,
                              pool, run);
}

void MatMulOn(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
              ThreadPool* pool) {
  DTE_CHECK(IsaSupported(isa), "kernel family not supported by this CPU");
  if (isa == KernelIsa::kAvx512 && n >= kGemmMinInputs) {
    RunGemm(internal::GemmPrecision::kF32, w, x, n, y, pool);
    return;
  }
  Run(RowsFor(isa, w.type), w, x, n, y, pool);
}

void MatMulBf16On(KernelIsa isa, const MatrixView& w, const float* x, int64_t n, float* y,
                  ThreadPool* pool) {
  switch (isa) {
    case KernelIsa::kScalar: {
      const std::vector<float> xr = RoundedToBf16(x, static_cast<size_t>(n * w.cols));
      Run(ScalarBf16Rows, w, xr.data(), n, y, pool);
      return;
    }
    case KernelIsa::kAvx512:
      DTE_CHECK(Bf16Supported(), "AVX512_BF16 not supported by this CPU");
      RunGemm(internal::GemmPrecision::kBf16, w, x, n, y, pool);
      return;
    case KernelIsa::kAvx2:
      break;
  }
  DTE_CHECK(false, "no bf16 kernels for this family");
}

}  // namespace dte
