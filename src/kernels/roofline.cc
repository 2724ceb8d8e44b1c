// dte perf --roofline: the measurements described in roofline.h.
#include "kernels/roofline.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "kernels/cpu_features.h"

namespace dte {
namespace internal {

double FmaLoopScalar(int64_t iterations, float* sink) {
  // Plain multiply-adds (no FMA instruction in the baseline ISA): 2 flops each.
  float acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = 0.001f * static_cast<float>(i);
  for (int64_t it = 0; it < iterations; ++it) {
    for (float& a : acc) a = a * 0.999999f + 1e-7f;
  }
  float total = 0;
  for (float a : acc) total += a;
  *sink = total;
  return static_cast<double>(iterations) * 16 * 2;
}

float SumScalar(const float* x, int64_t n) {
  float acc[8] = {};
  for (int64_t i = 0; i < n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += x[i + k];
  }
  float total = 0;
  for (float a : acc) total += a;
  return total;
}

}  // namespace internal

namespace {

using ComputeLoop = double (*)(int64_t, float*);

// Peak GFLOP/s of `loop` on every thread of `pool`: the work is cut into several chunks per
// thread so a late-waking thread cannot leave the others idle (or do all of it alone).
double MeasureCompute(ThreadPool& pool, ComputeLoop loop, double seconds) {
  float sink = 0;
  // Calibrate on one thread: how many iterations fill `seconds` on all of them.
  int64_t probe = 1 << 16;
  double probe_s = 0;
  while (true) {
    const auto t0 = SteadyClock::now();
    loop(probe, &sink);
    probe_s = SecondsSince(t0);
    if (probe_s > 0.01 || probe > (int64_t{1} << 34)) break;
    probe *= 4;
  }
  const int chunks = pool.size() * 8;
  const int64_t per_chunk = std::max<int64_t>(
      1, static_cast<int64_t>(probe * (seconds / probe_s) * pool.size() / chunks));
  std::atomic<double> flops{0};
  std::vector<float> sinks(static_cast<size_t>(chunks));
  const auto t0 = SteadyClock::now();
  pool.ParallelFor(chunks, [&](int64_t begin, int64_t end) {
    double done = 0;
    for (int64_t c = begin; c < end; ++c) done += loop(per_chunk, &sinks[static_cast<size_t>(c)]);
    double expected = flops.load();
    while (!flops.compare_exchange_weak(expected, expected + done)) {
    }
  });
  const double elapsed = SecondsSince(t0);
  return flops.load() / elapsed / 1e9;
}

using SumLoop = float (*)(const float*, int64_t);

struct Bandwidth {
  double triad_gb_s = 0;
  double read_gb_s = 0;
};

Bandwidth MeasureBandwidth(ThreadPool& pool, const RooflineOptions& options, SumLoop sum) {
  const int64_t n = options.triad_elements;
  std::unique_ptr<float[]> a(new float[static_cast<size_t>(n)]),
      b(new float[static_cast<size_t>(n)]), c(new float[static_cast<size_t>(n)]);
  constexpr int64_t kGrain = 1 << 16;
  // First touch by the pool, as the measured passes will touch them.
  pool.ParallelFor(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      a[i] = 0;
      b[i] = 1.0f;
      c[i] = 2.0f;
    }
  }, kGrain);
  const float s = 3.0f;
  Bandwidth best;
  for (int pass = 0; pass < options.triad_passes; ++pass) {
    const auto t0 = SteadyClock::now();
    pool.ParallelFor(n, [&](int64_t begin, int64_t end) {
      float* __restrict pa = a.get();
      const float* __restrict pb = b.get();
      const float* __restrict pc = c.get();
      for (int64_t i = begin; i < end; ++i) pa[i] = pb[i] + s * pc[i];
    }, kGrain);
    const double elapsed = SecondsSince(t0);
    best.triad_gb_s = std::max(best.triad_gb_s, 3.0 * 4.0 * static_cast<double>(n) / elapsed / 1e9);
  }
  std::vector<float> sinks(static_cast<size_t>(n / kGrain + 1));
  for (int pass = 0; pass < options.triad_passes; ++pass) {
    const auto t0 = SteadyClock::now();
    pool.ParallelFor(n, [&](int64_t begin, int64_t end) {
      sinks[static_cast<size_t>(begin / kGrain)] = sum(b.get() + begin, (end - begin) / 64 * 64);
    }, kGrain);
    const double elapsed = SecondsSince(t0);
    best.read_gb_s = std::max(best.read_gb_s, 4.0 * static_cast<double>(n) / elapsed / 1e9);
  }
  return best;
}

}  // namespace

Roofline MeasureRoofline(ThreadPool& pool, const RooflineOptions& options) {
  Roofline r;
  r.threads = pool.size();
  const KernelIsa isa = ActiveIsa();
  const Bandwidth bandwidth = MeasureBandwidth(
      pool, options,
      isa == KernelIsa::kAvx512 ? internal::SumAvx512
      : isa == KernelIsa::kAvx2 ? internal::SumAvx2
                                : internal::SumScalar);
  r.triad_gb_s = bandwidth.triad_gb_s;
  r.read_gb_s = bandwidth.read_gb_s;
  r.isa = std::string(KernelIsaName(isa));
  const ComputeLoop fma = isa == KernelIsa::kAvx512 ? internal::FmaLoopAvx512
                          : isa == KernelIsa::kAvx2 ? internal::FmaLoopAvx2
                                                    : internal::FmaLoopScalar;
  r.fp32_fma_gflops = MeasureCompute(pool, fma, options.compute_seconds);
  if (Bf16Supported()) {
    r.bf16_dot_gflops = MeasureCompute(pool, internal::Bf16DotLoopAvx512, options.compute_seconds);
  }
  const CpuFeatures& f = HostCpuFeatures();
  r.amx = f.amx_tile && f.amx_bf16
              ? "AMX tiles present, but no AMX kernel exists yet (not measured)"
              : "not supported by this CPU";
  return r;
}

}  // namespace dte
