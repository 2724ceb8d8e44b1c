#include "router/fleet_metrics.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

namespace dte::router {
namespace {

void AddBuckets(Buckets& into, const Buckets& more) {
  for (const auto& [le, count] : more) into[le] += count;
}

std::optional<double> Max(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

std::optional<double> Add(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return *a + *b;
}

double CounterDelta(double now, double before) { return now >= before ? now - before : now; }

// The dte_step_duration_seconds buckets of the steps in `phases` ("decode", "prefill",
// "mixed"); samples without a phase label (workers before the label existed) count as prefill.
Buckets StepBuckets(const std::vector<PromSample>& samples,
                    std::initializer_list<std::string_view> phases) {
  std::vector<PromSample> picked;
  for (const PromSample& s : samples) {
    if (s.name != "dte_step_duration_seconds_bucket") continue;
    auto it = s.labels.find("phase");
    const std::string_view phase = it == s.labels.end() ? "prefill" : std::string_view(it->second);
    for (std::string_view p : phases)
      if (p == phase) picked.push_back(s);
  }
  return HistogramBuckets(picked, "dte_step_duration_seconds");
}

}  // namespace

FleetSnapshot FleetTracker::Update(SteadyClock::time_point now,
                                   const std::map<std::string, std::vector<PromSample>>& scraped,
                                   uint64_t router_requests, uint64_t router_failed) {
  FleetSnapshot out;
  const double dt = last_time_ ? std::chrono::duration<double>(now - *last_time_).count() : 0.0;
  Buckets ttft, tpot, prefill_steps, decode_steps;
  bool every_capacity = true;  // every worker exports dte_queue_capacity
  std::map<std::string, double> codes, hits, misses;
  bool have_delta = false;
  for (const auto& [url, samples] : scraped) {
    WorkerGauges g;
    g.active_sequences = SumSeries(samples, "dte_active_sequences");
    g.queue_depth = SumSeries(samples, "dte_queue_depth");
    out.workers[url] = g;
    out.alert.queue_depth = Add(out.alert.queue_depth, g.queue_depth);
    const std::optional<double> capacity = SumSeries(samples, "dte_queue_capacity");
    every_capacity = every_capacity && capacity.has_value();
    out.alert.queue_capacity = Add(out.alert.queue_capacity, capacity);
    out.dashboard.queue_depth = Add(out.dashboard.queue_depth, g.queue_depth);
    out.dashboard.active_sequences = Add(out.dashboard.active_sequences, g.active_sequences);
    out.alert.rss_bytes =
        Max(out.alert.rss_bytes, SumSeries(samples, "process_resident_memory_bytes"));
    out.alert.state_cache_bytes =
        Max(out.alert.state_cache_bytes, SumSeries(samples, "dte_state_bytes"));
    auto prev = previous_.find(url);
    if (prev == previous_.end()) continue;  // first sight: a baseline only
    have_delta = true;
    const std::vector<PromSample>& before = prev->second;
    AddBuckets(ttft, BucketDelta(HistogramBuckets(samples, "dte_time_to_first_token_seconds"),
                                 HistogramBuckets(before, "dte_time_to_first_token_seconds")));
    AddBuckets(tpot, BucketDelta(HistogramBuckets(samples, "dte_time_per_output_token_seconds"),
                                 HistogramBuckets(before, "dte_time_per_output_token_seconds")));
    // Steps that carry prompt tokens (prefill only, or mixed with decode rows) stand for the
    // prefill limit; decode-only steps for the decode limit.
    AddBuckets(prefill_steps, BucketDelta(StepBuckets(samples, {"prefill", "mixed"}),
                                          StepBuckets(before, {"prefill", "mixed"})));
    AddBuckets(decode_steps,
               BucketDelta(StepBuckets(samples, {"decode"}), StepBuckets(before, {"decode"})));
    auto delta_by = [&](const char* name, const char* label, std::map<std::string, double>& into) {
      const std::map<std::string, double> a = SumBy(samples, name, label);
      const std::map<std::string, double> b = SumBy(before, name, label);
      for (const auto& [key, value] : a) {
        auto it = b.find(key);
        into[key] += CounterDelta(value, it == b.end() ? 0 : it->second);
      }
    };
    delta_by("dte_requests_total", "code", codes);
    delta_by("dte_cache_hits_total", "tier", hits);
    delta_by("dte_cache_misses_total", "tier", misses);
  }
  out.alert.latency_p95_seconds = HistogramQuantile(ttft, 0.95);
  out.alert.latency_p99_seconds = HistogramQuantile(ttft, 0.99);
  out.alert.prefill_step_p95_seconds = HistogramQuantile(prefill_steps, 0.95);
  out.alert.decode_step_p95_seconds = HistogramQuantile(decode_steps, 0.95);
  // Queue saturation needs every worker's capacity (a worker without it would make the total
  // look emptier than it is); without it the rule still sees 429s.
  if (!every_capacity || scraped.empty()) out.alert.queue_capacity.reset();
  out.dashboard.ttft_p50 = HistogramQuantile(ttft, 0.5);
  out.dashboard.ttft_p95 = out.alert.latency_p95_seconds;
  out.dashboard.ttft_p99 = out.alert.latency_p99_seconds;
  out.dashboard.tpot_p50 = HistogramQuantile(tpot, 0.5);
  out.dashboard.tpot_p95 = HistogramQuantile(tpot, 0.95);
  out.dashboard.tpot_p99 = HistogramQuantile(tpot, 0.99);
  if (have_delta && dt > 0) {
    auto it = codes.find("429");
    out.alert.rejected_per_second = (it == codes.end() ? 0.0 : it->second) / dt;
  }
  for (const auto& [tier, h] : hits) {
    auto m = misses.find(tier);
    const double total = h + (m == misses.end() ? 0 : m->second);
    if (total > 0) out.dashboard.cache_hit_ratio[tier] = h / total;
  }
  // The router's own view of the clients' requests: rate and 5xx ratio.
  if (last_time_ && dt > 0) {
    const double requests =
        CounterDelta(static_cast<double>(router_requests), static_cast<double>(last_requests_));
    const double failed =
        CounterDelta(static_cast<double>(router_failed), static_cast<double>(last_failed_));
    out.dashboard.request_rate = requests / dt;
    if (requests > 0) {
      out.alert.error_ratio = failed / requests;
      out.dashboard.error_ratio = out.alert.error_ratio;
    }
  }
  out.dashboard.workers = static_cast<double>(scraped.size());
  previous_ = scraped;
  last_time_ = now;
  last_requests_ = router_requests;
  last_failed_ = router_failed;
  return out;
}

}  // namespace dte::router
