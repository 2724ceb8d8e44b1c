// Decision time of the autoscaling policy (Autoscaler::Decide) and of parsing one worker's
// /metrics page, for fleets of 1..64 workers. Needs dte_autoscale on dte_bench_micro's link line.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "autoscale/autoscaler.h"
#include "autoscale/prometheus_text.h"

namespace dte::autoscale {
namespace {

std::vector<WorkerLoad> Loads(int n) {
  std::vector<WorkerLoad> v(n);
  for (int i = 0; i < n; ++i) {
    v[i].active_sequences = 5 + i % 3;
    v[i].queue_depth = i % 2;
    v[i].request_rate = 1.5;
    for (int k = 0; k < 17; ++k) v[i].ttft_delta.push_back({0.001 * std::ldexp(1.0, k), 10.0 * k});
    v[i].ttft_delta.push_back({INFINITY, 170});
  }
  return v;
}

void BM_Decide(benchmark::State& state, PolicyKind policy) {
  AutoscalerConfig c;
  c.policy = policy;
  c.max_replicas = 128;
  EventLog log;
  Autoscaler a(c, &log);
  const int n = static_cast<int>(state.range(0));
  const std::vector<WorkerLoad> loads = Loads(n);
  double t = 0;
  for (auto _ : state) {
    Decision d = a.Decide(t, loads, n);
    benchmark::DoNotOptimize(d.desired);
    t += 5;
  }
  state.counters["workers"] = n;
}
BENCHMARK_CAPTURE(BM_Decide, hpa, PolicyKind::kHpa)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK_CAPTURE(BM_Decide, predictive, PolicyKind::kPredictive)->Arg(1)->Arg(8)->Arg(64);

void BM_ParseWorkerMetrics(benchmark::State& state) {
  std::string page = "# TYPE dte_time_to_first_token_seconds histogram\n";
  for (int k = 0; k < 17; ++k)
    page += "dte_time_to_first_token_seconds_bucket{le=\"" +
            std::to_string(0.001 * std::ldexp(1.0, k)) + "\"} " + std::to_string(k * 10) + "\n";
  page += "dte_time_to_first_token_seconds_bucket{le=\"+Inf\"} 170\n";
  for (const char* route : {"/v1/completions", "/v1/chat/completions", "/metrics", "/ready"})
    for (const char* code : {"200", "400", "429", "500"})
      page +=
          std::string("dte_requests_total{code=\"") + code + "\",route=\"" + route + "\"} 123\n";
  page += "dte_queue_depth 3\ndte_active_sequences 7\nprocess_cpu_seconds_total 12.5\n";
  for (auto _ : state) {
    Result<MetricSet> m = ParsePrometheusText(page);
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(page.size()));
}
BENCHMARK(BM_ParseWorkerMetrics);

}  // namespace
}  // namespace dte::autoscale
