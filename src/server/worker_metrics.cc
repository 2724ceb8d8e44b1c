#include "server/worker_metrics.h"

namespace dte::server {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto b = MetricsRegistry::ExponentialBuckets(0.001, 2, 17);  // 1 ms .. 65 s
  return b;
}

}  // namespace

WorkerMetrics::WorkerMetrics()
    : requests_(BuildCounter()
                    .Name("dte_requests_total")
                    .Help("HTTP requests by route and status code.")
                    .Register(registry_.registry())),
      request_duration_(BuildHistogram()
                            .Name("dte_request_duration_seconds")
                            .Help("HTTP request duration, first byte in to last byte out.")
                            .Register(registry_.registry())),
      ttft_(BuildHistogram()
                .Name("dte_time_to_first_token_seconds")
                .Help("Time from request admission to the first generated token.")
                .Register(registry_.registry())
                .Add({}, LatencyBuckets())),
      tpot_(BuildHistogram()
                .Name("dte_time_per_output_token_seconds")
                .Help("Mean time per generated token after the first, per request.")
                .Register(registry_.registry())
                .Add({}, MetricsRegistry::ExponentialBuckets(0.0005, 2, 14))),
      batch_size_(BuildHistogram()
                      .Name("dte_batch_size")
                      .Help("Sequences in each forward step.")
                      .Register(registry_.registry())
                      .Add({}, MetricsRegistry::ExponentialBuckets(1, 2, 11))),
      prompt_tokens_(BuildCounter()
                         .Name("dte_prompt_tokens_total")
                         .Help("Prompt tokens prefilled.")
                         .Register(registry_.registry())
                         .Add({})),
      generated_tokens_(BuildCounter()
                            .Name("dte_generated_tokens_total")
                            .Help("Tokens generated.")
                            .Register(registry_.registry())
                            .Add({})),
      queue_depth_(BuildGauge()
                       .Name("dte_queue_depth")
                       .Help("Requests waiting for a batch slot.")
                       .Register(registry_.registry())
                       .Add({})),
      queue_capacity_(BuildGauge()
                          .Name("dte_queue_capacity")
                          .Help("Requests that may wait for a batch slot; more are refused (429).")
                          .Register(registry_.registry())
                          .Add({})),
      active_sequences_(BuildGauge()
                            .Name("dte_active_sequences")
                            .Help("Sequences in the running batch.")
                            .Register(registry_.registry())
                            .Add({})),
      sessions_(BuildGauge()
                    .Name("dte_sessions")
                    .Help("Open sessions.")
                    .Register(registry_.registry())
                    .Add({})),
      state_bytes_(BuildGauge()
                       .Name("dte_state_bytes")
                       .Help("Bytes of RWKV state held by sessions.")
                       .Register(registry_.registry())
                       .Add({})),
      cache_entries_(BuildGauge()
                         .Name("dte_cache_entries")
                         .Help("Entries held by each state cache tier.")
                         .Register(registry_.registry())),
      cache_bytes_(BuildGauge()
                       .Name("dte_cache_bytes")
                       .Help("Bytes held by each state cache tier (compressed size in l2/l3).")
                       .Register(registry_.registry())),
      cache_capacity_(BuildGauge()
                          .Name("dte_cache_capacity_bytes")
                          .Help("Byte budget of each state cache tier.")
                          .Register(registry_.registry())),
      cache_hits_(BuildCounter()
                      .Name("dte_cache_hits_total")
                      .Help("State cache lookups found in each tier.")
                      .Register(registry_.registry())),
      cache_misses_(BuildCounter()
                        .Name("dte_cache_misses_total")
                        .Help("State cache lookups missed by each tier.")
                        .Register(registry_.registry())),
      cache_evictions_(
          BuildCounter()
              .Name("dte_cache_evictions_total")
              .Help("Entries pushed out of each state cache tier for room.")
              .Register(registry_.registry())),
      cache_expirations_(
          BuildCounter()
              .Name("dte_cache_expirations_total")
              .Help("Entries dropped from each state cache tier because their TTL ran out.")
              .Register(registry_.registry())),
      cache_promotions_(BuildCounter()
                            .Name("dte_cache_promotions_total")
                            .Help("Entries moved up out of each state cache tier by a hit.")
                            .Register(registry_.registry())),
      cache_errors_(BuildCounter()
                        .Name("dte_cache_errors_total")
                        .Help("Failed operations of each state cache tier (Redis: timeouts, "
                              "refused connections, rejected writes).")
                        .Register(registry_.registry())),
      prefix_hit_tokens_(
          BuildCounter()
              .Name("dte_cache_prefix_hit_tokens_total")
              .Help("Prompt tokens not prefilled thanks to a cached prefix checkpoint.")
              .Register(registry_.registry())
              .Add({})),
      prefix_lookups_(BuildCounter()
                          .Name("dte_cache_prefix_lookups_total")
                          .Help("Prompts looked up in the state cache.")
                          .Register(registry_.registry())
                          .Add({})),
      prefix_hits_(BuildCounter()
                       .Name("dte_cache_prefix_hits_total")
                       .Help("Prompts that resumed from a cached prefix.")
                       .Register(registry_.registry())
                       .Add({})),
      checkpoints_(BuildCounter()
                       .Name("dte_cache_checkpoints_total")
                       .Help("Prefix checkpoints written to the state cache.")
                       .Register(registry_.registry())
                       .Add({})),
      checkpoints_dropped_(
          BuildCounter()
              .Name("dte_cache_checkpoints_dropped_total")
              .Help("Prefix checkpoints dropped because the cache writer was behind.")
              .Register(registry_.registry())
              .Add({})),
      checkpoint_seconds_(
          BuildCounter()
              .Name("dte_cache_checkpoint_capture_seconds_total")
              .Help("Scheduler time spent copying checkpoints out (state and logits).")
              .Register(registry_.registry())
              .Add({})) {
  auto& steps = BuildHistogram()
                    .Name("dte_step_duration_seconds")
                    .Help("Duration of one batched forward step, by phase: decode (only decode "
                          "rows), prefill (only prompt chunks) or mixed.")
                    .Register(registry_.registry());
  for (StepPhase phase : {StepPhase::kDecode, StepPhase::kPrefill, StepPhase::kMixed}) {
    step_duration_[static_cast<int>(phase)] =
        &steps.Add({{"phase", std::string(StepPhaseName(phase))}},
                   MetricsRegistry::ExponentialBuckets(0.0005, 2, 14));
  }
}

void WorkerMetrics::SetQueueCapacity(int64_t capacity) {
  queue_capacity_.Set(static_cast<double>(capacity));
}

void WorkerMetrics::Advance(prometheus::Counter& counter, const std::string& key, double value) {
  double& last = reported_[key];
  if (value > last) counter.Increment(value - last);
  last = value;  // a smaller value (a restarted count) starts over from there
}

void WorkerMetrics::RefreshCache(const EngineStats& stats, const CacheStats& cache) {
  std::lock_guard<std::mutex> lock(cache_mu_);
  for (const TierStats& t : cache.tiers) {
    const std::map<std::string, std::string> labels = {{"tier", t.name}};
    cache_entries_.Add(labels).Set(static_cast<double>(t.entries));
    cache_bytes_.Add(labels).Set(static_cast<double>(t.bytes));
    cache_capacity_.Add(labels).Set(static_cast<double>(t.capacity_bytes));
    Advance(cache_hits_.Add(labels), "hits/" + t.name, static_cast<double>(t.hits));
    Advance(cache_misses_.Add(labels), "misses/" + t.name, static_cast<double>(t.misses));
    Advance(cache_evictions_.Add(labels), "evictions/" + t.name, static_cast<double>(t.evictions));
    Advance(cache_expirations_.Add(labels), "expirations/" + t.name,
            static_cast<double>(t.expirations));
    Advance(cache_promotions_.Add(labels), "promotions/" + t.name,
            static_cast<double>(t.promotions));
    Advance(cache_errors_.Add(labels), "errors/" + t.name, static_cast<double>(t.errors));
  }
  if (stats.cache) {
    const StateCacheCounters& c = *stats.cache;
    Advance(prefix_lookups_, "prefix_lookups", static_cast<double>(c.prefix_lookups));
    Advance(prefix_hits_, "prefix_hits", static_cast<double>(c.prefix_hits));
    Advance(checkpoints_, "checkpoints", static_cast<double>(c.checkpoints));
    Advance(checkpoints_dropped_, "checkpoints_dropped",
            static_cast<double>(c.checkpoints_dropped));
    Advance(checkpoint_seconds_, "capture_seconds", c.capture_seconds);
  }
}

void WorkerMetrics::ObserveRequest(const std::string& route, int status, double seconds) {
  requests_.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
  request_duration_.Add({{"route", route}}, LatencyBuckets()).Observe(seconds);
}

std::string WorkerMetrics::Serialize(const EngineStats& stats, const CacheStats* cache) {
  if (cache) RefreshCache(stats, *cache);
  queue_depth_.Set(static_cast<double>(stats.queue_depth));
  active_sequences_.Set(static_cast<double>(stats.active_sequences));
  sessions_.Set(static_cast<double>(stats.sessions));
  state_bytes_.Set(static_cast<double>(stats.session_state_bytes));
  return registry_.Serialize();
}

void WorkerMetrics::OnStepPhase(StepPhase phase, int64_t sequences, int64_t, double seconds) {
  batch_size_.Observe(static_cast<double>(sequences));
  step_duration_[static_cast<int>(phase)]->Observe(seconds);
}

void WorkerMetrics::OnFirstToken(double seconds) { ttft_.Observe(seconds); }

void WorkerMetrics::OnFinished(const Usage& usage, FinishReason, double, double seconds_per_output_token) {
  prompt_tokens_.Increment(static_cast<double>(usage.prompt_tokens));
  generated_tokens_.Increment(static_cast<double>(usage.completion_tokens));
  prefix_hit_tokens_.Increment(static_cast<double>(usage.prefix_hit_tokens));
  if (usage.completion_tokens > 1) tpot_.Observe(seconds_per_output_token);
}

}  // namespace dte::server
