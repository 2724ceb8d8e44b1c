#pragma once
// The metrics of one `dte serve` worker (GET /metrics), fed by the HTTP handlers (requests)
// and by the engine (as its EngineObserver: steps, first tokens, finished requests).
// Gauges that mirror engine state, and the state cache's dte_cache_* series (per tier), are
// refreshed at scrape time.

#include <map>
#include <mutex>
#include <string>

#include "cache/tiered_cache.h"
#include "engine/engine.h"
#include "telemetry/metrics_registry.h"

namespace dte::server {

class WorkerMetrics : public EngineObserver {
 public:
  WorkerMetrics();

  void ObserveRequest(const std::string& route, int status, double seconds);
  // The registry behind /metrics (the tracer's export counters register here too).
  prometheus::Registry& registry() { return registry_.registry(); }
  // dte_queue_capacity: requests that may wait before more get 429 (--max-queue).
  void SetQueueCapacity(int64_t capacity);
  // Prometheus text, with the engine gauges refreshed from `stats` and the cache series from
  // `cache` (null: no state cache).
  std::string Serialize(const EngineStats& stats, const CacheStats* cache = nullptr);

  // EngineObserver (called on the scheduler thread).
  void OnStepPhase(StepPhase phase, int64_t sequences, int64_t tokens, double seconds) override;
  void OnFirstToken(double seconds_since_submit) override;
  void OnFinished(const Usage& usage, FinishReason reason, double seconds_since_submit,
                  double seconds_per_output_token) override;

 private:
  MetricsRegistry registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Histogram& ttft_;
  prometheus::Histogram& tpot_;
  prometheus::Histogram& batch_size_;
  // dte_step_duration_seconds{phase="decode"|"prefill"|"mixed"}, indexed by StepPhase.
  prometheus::Histogram* step_duration_[3];
  prometheus::Counter& prompt_tokens_;
  prometheus::Counter& generated_tokens_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& queue_capacity_;
  prometheus::Gauge& active_sequences_;
  prometheus::Gauge& sessions_;
  prometheus::Gauge& state_bytes_;

  // State cache.
  void RefreshCache(const EngineStats& stats, const CacheStats& cache);
  prometheus::Family<prometheus::Gauge>& cache_entries_;
  prometheus::Family<prometheus::Gauge>& cache_bytes_;
  prometheus::Family<prometheus::Gauge>& cache_capacity_;
  prometheus::Family<prometheus::Counter>& cache_hits_;
  prometheus::Family<prometheus::Counter>& cache_misses_;
  prometheus::Family<prometheus::Counter>& cache_evictions_;
  prometheus::Family<prometheus::Counter>& cache_expirations_;
  prometheus::Family<prometheus::Counter>& cache_promotions_;
  prometheus::Family<prometheus::Counter>& cache_errors_;
  prometheus::Counter& prefix_hit_tokens_;
  prometheus::Counter& prefix_lookups_;
  prometheus::Counter& prefix_hits_;
  prometheus::Counter& checkpoints_;
  prometheus::Counter& checkpoints_dropped_;
  prometheus::Counter& checkpoint_seconds_;
  std::mutex cache_mu_;
  // The cache keeps its own monotonic counts; Prometheus counters get the increase since the
  // last scrape. Keyed by series name + tier.
  std::map<std::string, double> reported_;  // guarded by cache_mu_
  void Advance(prometheus::Counter& counter, const std::string& key, double value);
};

}  // namespace dte::server
