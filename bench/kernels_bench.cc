// Weight-matrix kernels per family (scalar / avx2 / avx512), single-threaded, on the shapes of
// a 0.1B RWKV (C = 768): MatVec for 768x768 (att), 3072x768 (ffn key) and 65536x768 (head),
// and MatMul with n = 4 ... 256 inputs (batched decode, prefill chunks) in float (MatMul/...)
// and with bf16 inputs (MatMulBf16/..., AVX512_BF16 only); Q8_0 weights with int8 inputs
// (MatVecQ8/..., MatMulQ8/...: the AVX512_VNNI kernel and its scalar twin).
// bytes_per_second counts the weight bytes read once per product (the memory-bound measure);
// items_per_second counts multiply-adds, FLOPS counts 2 per multiply-add (compare with
// `dte perf --roofline`). MatMulPool: the dispatched MatMul (ActiveMatMulPrecision) over a pool
// of every hardware thread (wall time).
//   build-*/bench/dte_bench_micro --benchmark_filter='MatVec|MatMul'

#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/dtype.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/vector_ops.h"
#include "kernels/wkv7.h"

namespace dte {
namespace {

struct BenchMatrix {
  std::vector<uint8_t> data;
  MatrixView view;
};

// Random weights, made once per (type, rows, cols) and kept for the whole run.
const BenchMatrix& Weights(DType type, int64_t rows, int64_t cols) {
  static std::map<std::tuple<DType, int64_t, int64_t>, std::unique_ptr<BenchMatrix>> cache;
  auto& slot = cache[{type, rows, cols}];
  if (!slot) {
    slot = std::make_unique<BenchMatrix>();
    const size_t row_bytes = DTypeRowBytes(type, cols);
    slot->data.resize(row_bytes * rows);
    std::mt19937 rng(static_cast<uint32_t>(rows * 31 + cols));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : row) v = dist(rng);
      QuantizeRow(type, row.data(), slot->data.data() + r * row_bytes, cols);
    }
    slot->view = MatrixView{type, rows, cols, slot->data.data()};
  }
  return *slot;
}

void RunProduct(benchmark::State& state, KernelIsa isa, DType type, int64_t rows, int64_t cols,
                int64_t n, MatMulPrecision precision = MatMulPrecision::kF32) {
  const BenchMatrix& w = Weights(type, rows, cols);
  std::vector<float> x(n * cols), y(n * rows);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  for (auto _ : state) {
    if (precision == MatMulPrecision::kBf16) {
      MatMulBf16On(isa, w.view, x.data(), n, y.data(), nullptr);
    } else if (precision == MatMulPrecision::kQ8) {
      MatMulQ8On(isa, w.view, x.data(), n, y.data(), nullptr);
    } else {
      MatMulOn(isa, w.view, x.data(), n, y.data(), nullptr);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.data.size()));
  state.SetItemsProcessed(state.iterations() * rows * cols * n);
  state.counters["FLOPS"] = benchmark::Counter(static_cast<double>(2 * rows * cols * n),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

// The dispatched entry point (ActiveIsa()) with every hardware thread, on the head matrix.
void RunThreaded(benchmark::State& state, DType type, int64_t rows, int64_t cols, int64_t n) {
  static ThreadPool pool(ThreadPool::HardwareThreads());
  const BenchMatrix& w = Weights(type, rows, cols);
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  for (auto _ : state) {
    MatMul(w.view, x.data(), n, y.data(), &pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.data.size()));
  state.SetItemsProcessed(state.iterations() * rows * cols * n);
  state.counters["FLOPS"] = benchmark::Counter(static_cast<double>(2 * rows * cols * n),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = pool.size();
}

// One WKV7 step of one head (N = 64, the size of every released RWKV-7), over a state that
// stays in L1 as it does in prefill; items_per_second counts steps.
void RunWkv7(benchmark::State& state, KernelIsa isa, int64_t n) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> s(n * n), r(n), k(n), v(n), decay(n, 0.9f), kk(n), a(n, 0.5f), y(n);
  for (auto* vec : {&s, &r, &k, &v, &kk}) {
    for (float& x : *vec) x = dist(rng) * 0.1f;
  }
  for (auto _ : state) {
    Wkv7StepOn(isa, n, s.data(), r.data(), k.data(), v.data(), decay.data(), kk.data(), a.data(),
               y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// LayerNorm of one 768-float row.
void RunLayerNorm(benchmark::State& state, KernelIsa isa) {
  const int64_t n = 768;
  std::vector<float> x(n, 0.5f), w(n, 1.0f), b(n, 0.0f), out(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 13);
  const VectorOps& ops = VectorOpsFor(isa);
  for (auto _ : state) {
    ops.layer_norm(x.data(), w.data(), b.data(), n, 1e-5f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

bool RegisterAll() {
  const DType types[] = {DType::kF32, DType::kF16, DType::kQ8_0};
  const DType more_types[] = {DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1};
  struct Shape {
    int64_t rows, cols;
  };
  const Shape matvec_shapes[] = {{768, 768}, {3072, 768}, {65536, 768}};
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    const std::string family(KernelIsaName(isa));
    benchmark::RegisterBenchmark(("Wkv7Step/" + family + "/N=64").c_str(),
                                 [=](benchmark::State& st) { RunWkv7(st, isa, 64); });
    benchmark::RegisterBenchmark(("LayerNorm/" + family + "/768").c_str(),
                                 [=](benchmark::State& st) { RunLayerNorm(st, isa); });
    auto add = [&](const char* what, DType type, Shape s, int64_t n,
                   MatMulPrecision precision = MatMulPrecision::kF32) {
      std::string name = std::string(what) + "/" + family + "/" + std::string(DTypeName(type)) +
                         "/" + std::to_string(s.rows) + "x" + std::to_string(s.cols);
      if (n > 1) name += "/n=" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
        RunProduct(st, isa, type, s.rows, s.cols, n, precision);
      })->Unit(benchmark::kMicrosecond);
    };
    for (DType type : types)
      for (Shape s : matvec_shapes) add("MatVec", type, s, 1);
    for (DType type : types) add("MatVec", type, {768, 3072}, 1);
    for (DType type : more_types) add("MatVec", type, {3072, 768}, 1);
    const bool fast = isa != KernelIsa::kScalar;
    for (DType type : types) {
      for (int64_t n : {4, 8, 16, 32, 64, 128, 256}) {
        if (fast || n == 8 || n == 32 || n == 64) add("MatMul", type, {768, 768}, n);
      }
      if (fast) add("MatMul", type, {3072, 768}, 128);
      if (fast) add("MatMul", type, {768, 3072}, 128);
    }
    for (DType type : more_types) add("MatMul", type, {768, 768}, 32);
    if (isa == KernelIsa::kAvx512 && Bf16Supported()) {
      for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0}) {
        for (int64_t n : {8, 16, 32, 64, 128, 256}) {
          add("MatMulBf16", type, {768, 768}, n, MatMulPrecision::kBf16);
        }
        add("MatMulBf16", type, {3072, 768}, 128, MatMulPrecision::kBf16);
        add("MatMulBf16", type, {768, 3072}, 128, MatMulPrecision::kBf16);
      }
    }
    if ((isa == KernelIsa::kAvx512 && VnniSupported()) || isa == KernelIsa::kScalar) {
      for (Shape s : matvec_shapes) add("MatVecQ8", DType::kQ8_0, s, 1, MatMulPrecision::kQ8);
      add("MatVecQ8", DType::kQ8_0, {768, 3072}, 1, MatMulPrecision::kQ8);
      for (int64_t n : {2, 4, 8}) add("MatMulQ8", DType::kQ8_0, {768, 768}, n, MatMulPrecision::kQ8);
    }
  }
  for (DType type : types) {
    for (int64_t n : {1, 8, 64}) {
      const std::string name = "MatMulPool/" + std::string(KernelIsaName(ActiveIsa())) + "/" +
                               std::string(DTypeName(type)) + "/65536x768/n=" + std::to_string(n);
      benchmark::RegisterBenchmark(
          name.c_str(), [=](benchmark::State& st) { RunThreaded(st, type, 65536, 768, n); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  }
  return true;
}

const bool registered = RegisterAll();

}  // namespace
}  // namespace dte
