#pragma once
// What the autoscaler knows about one worker: a WorkerSample is one scrape of its /metrics
// (gauges and cumulative counters at an instant); a WorkerLoad is what two successive samples
// of the same worker say about the interval between them (request rate, error rate, TTFT p95
// from histogram bucket deltas, CPU cores used). The policy reads WorkerLoads only, so the
// simulator can synthesize them without any HTTP. Plain values, no shared state.

#include <optional>
#include <string>
#include <vector>

#include "autoscale/prometheus_text.h"
#include "base/status.h"

namespace dte::autoscale {

// Series names read from a worker (those `dte serve` exports; see server/worker_metrics.cc).
struct MetricNames {
  std::string queue_depth = "dte_queue_depth";
  std::string active_sequences = "dte_active_sequences";
  std::string requests_total = "dte_requests_total";  // labels route, code
  std::string ttft_histogram = "dte_time_to_first_token_seconds";
  std::string cpu_seconds = "process_cpu_seconds_total";
  // Routes whose requests count as load (the generation endpoints; /metrics scrapes and
  // health probes are left out).
  std::vector<std::string> load_routes = {"/v1/completions", "/v1/chat/completions"};
};

struct WorkerSample {
  double time_s = 0;  // when it was taken, on the caller's monotonic clock
  double queue_depth = 0;
  double active_sequences = 0;
  double requests_total = 0;  // on load routes
  double errors_total = 0;    // on load routes, status >= 500
  double cpu_seconds = 0;
  std::vector<Bucket> ttft_buckets;  // cumulative
};

// Extracts a WorkerSample from a parsed scrape. Missing gauges/counters read as 0; fails
// (InvalidArgument) only when not one of the expected series is present, which means the
// target is not a dte worker.
Result<WorkerSample> SampleFromMetrics(const MetricSet& metrics, double time_s,
                                       const MetricNames& names = {});

struct WorkerLoad {
  std::string worker;  // its URL or name, for events
  double queue_depth = 0;
  double active_sequences = 0;
  double request_rate = 0;         // load-route requests/s over the interval
  double error_rate = 0;           // 5xx/s over the interval
  std::optional<double> ttft_p95;  // seconds; nullopt when no first token in the interval
  double ttft_count = 0;           // first tokens in the interval (weights the merge of p95s)
  double cpu_cores = 0;            // CPU seconds per second over the interval
  std::vector<Bucket> ttft_delta;  // bucket deltas over the interval (for a fleet-wide p95)
};

// The load between `before` and `now` (same worker). Counter resets (a restarted worker: a
// counter went down) are treated as a restart from zero, as Prometheus' rate() does.
// Without `before` only the gauges are filled.
WorkerLoad LoadBetween(const WorkerSample* before, const WorkerSample& now);

}  // namespace dte::autoscale
