#include "autoscale/worker_sample.h"

#include <algorithm>

namespace dte::autoscale {
namespace {

bool IsLoadRoute(const MetricSample& s, const MetricNames& names) {
  std::optional<std::string_view> route = s.Label("route");
  if (!route) return false;
  return std::find(names.load_routes.begin(), names.load_routes.end(), *route) !=
         names.load_routes.end();
}

// now - before for a counter; a decrease means the process restarted from zero.
double CounterDelta(double before, double now) { return now >= before ? now - before : now; }

}  // namespace

Result<WorkerSample> SampleFromMetrics(const MetricSet& metrics, double time_s,
                                       const MetricNames& names) {
  WorkerSample out;
  out.time_s = time_s;
  bool any = false;
  if (std::optional<double> v = metrics.Sum(names.queue_depth)) out.queue_depth = *v, any = true;
  if (std::optional<double> v = metrics.Sum(names.active_sequences))
    out.active_sequences = *v, any = true;
  if (std::optional<double> v = metrics.Sum(names.cpu_seconds)) out.cpu_seconds = *v;
  for (const MetricSample& s : metrics.samples) {
    if (s.name != names.requests_total || !IsLoadRoute(s, names)) continue;
    out.requests_total += s.value;
    std::optional<std::string_view> code = s.Label("code");
    if (code && !code->empty() && (*code)[0] == '5') out.errors_total += s.value;
  }
  out.ttft_buckets = metrics.HistogramBuckets(names.ttft_histogram);
  if (!out.ttft_buckets.empty()) any = true;
  if (!any)
    return Status::InvalidArgument("no " + names.queue_depth + ", " + names.active_sequences +
                                   " or " + names.ttft_histogram + " series in the scrape");
  return out;
}

WorkerLoad LoadBetween(const WorkerSample* before, const WorkerSample& now) {
  WorkerLoad load;
  load.queue_depth = now.queue_depth;
  load.active_sequences = now.active_sequences;
  if (before == nullptr) return load;
  const double dt = now.time_s - before->time_s;
  if (!(dt > 0)) return load;
  load.request_rate = CounterDelta(before->requests_total, now.requests_total) / dt;
  load.error_rate = CounterDelta(before->errors_total, now.errors_total) / dt;
  load.cpu_cores = CounterDelta(before->cpu_seconds, now.cpu_seconds) / dt;
  // A restarted worker (any bucket went down) has its all-time histogram as the delta.
  bool reset = before->ttft_buckets.size() != now.ttft_buckets.size();
  for (size_t i = 0; !reset && i < now.ttft_buckets.size(); ++i)
    reset = now.ttft_buckets[i].count < before->ttft_buckets[i].count ||
            now.ttft_buckets[i].upper_bound != before->ttft_buckets[i].upper_bound;
  const std::vector<Bucket> empty;
  const std::vector<Bucket>& base = reset ? empty : before->ttft_buckets;
  load.ttft_delta = now.ttft_buckets;
  for (size_t i = 0; i < base.size(); ++i) load.ttft_delta[i].count -= base[i].count;
  if (!load.ttft_delta.empty()) load.ttft_count = load.ttft_delta.back().count;
  load.ttft_p95 = BucketQuantile(0.95, load.ttft_delta, {});
  return load;
}

}  // namespace dte::autoscale
