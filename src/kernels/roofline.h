#pragma once
// Measured limits of this machine for the kernels (dte perf --roofline):
//   * memory bandwidth: a STREAM-style triad a[i] = b[i] + s * c[i] over float arrays far larger
//     than the caches, counted as STREAM counts it (3 arrays x 4 bytes per element, no
//     write-allocate traffic), best of several passes;
//   * read bandwidth: a sum over one such array (what a decode step does with the weights: it
//     only reads them; the triad also writes, and its write-allocate traffic is not counted);
//   * peak FP32 FMA GFLOP/s of the active kernel family (independent accumulator chains, so the
//     loop is bound by the FMA pipes, not by their latency);
//   * peak BF16 dot-product GFLOP/s (AVX512_BF16 vdpbf16ps: 2 multiply-adds per fp32 lane) when
//     the CPU has it: the path the batched MatMul uses (see matmul.h);
//   * AMX: reported as unavailable unless the CPU has AMX tiles (no AMX kernel exists yet; the
//     note says so rather than guessing a number).
// Every number is a measurement on `threads` threads of a ThreadPool, not a datasheet figure.
//
// Thread-safety: a plain function; it uses the pool it is given and allocates its own arrays.

#include <cstdint>
#include <optional>
#include <string>

#include "base/thread_pool.h"

namespace dte {

struct RooflineOptions {
  int64_t triad_elements = int64_t{1} << 24;  // per array: 3 x 64 MiB of floats
  int triad_passes = 5;                       // best pass reported (STREAM's convention)
  double compute_seconds = 0.3;               // target duration of each compute test
};

struct Roofline {
  int threads = 1;
  std::string isa;                         // kernel family the FMA test used
  double triad_gb_s = 0;                   // memory bandwidth, STREAM triad
  double read_gb_s = 0;                    // memory bandwidth, reads only
  double fp32_fma_gflops = 0;              // peak FP32 (2 flops per FMA lane)
  std::optional<double> bf16_dot_gflops;   // nullopt: no AVX512_BF16
  std::string amx;                         // "not supported by this CPU" or what was done
};

Roofline MeasureRoofline(ThreadPool& pool, const RooflineOptions& options = {});

namespace internal {
// Compute loops: `iterations` rounds of a fixed number of independent multiply-adds; each
// returns the flops it performed and writes a value derived from its accumulators to *sink so
// the work cannot be optimized away.
double FmaLoopScalar(int64_t iterations, float* sink);
double FmaLoopAvx2(int64_t iterations, float* sink);
double FmaLoopAvx512(int64_t iterations, float* sink);
double Bf16DotLoopAvx512(int64_t iterations, float* sink);
// Sum of x[0, n) (n a multiple of 64), vectorized for the family; for the read bandwidth.
float SumScalar(const float* x, int64_t n);
float SumAvx2(const float* x, int64_t n);
float SumAvx512(const float* x, int64_t n);
}  // namespace internal

}  // namespace dte
