#pragma once
// The metrics of one `dte serve` worker (GET /metrics), fed by the HTTP handlers (requests)
// and by the engine (as its EngineObserver: steps, first tokens, finished requests).
// Gauges that mirror engine state are refreshed at scrape time.

#include <string>

#include "engine/engine.h"
#include "telemetry/metrics_registry.h"

namespace dte::server {

class WorkerMetrics : public EngineObserver {
 public:
  WorkerMetrics();

  void ObserveRequest(const std::string& route, int status, double seconds);
  // Prometheus text, with the engine gauges refreshed from `stats`.
  std::string Serialize(const EngineStats& stats);

  // EngineObserver (called on the scheduler thread).
  void OnStep(int64_t sequences, int64_t tokens, double seconds) override;
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
  prometheus::Histogram& step_duration_;
  prometheus::Counter& prompt_tokens_;
  prometheus::Counter& generated_tokens_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& active_sequences_;
  prometheus::Gauge& sessions_;
  prometheus::Gauge& state_bytes_;
};

}  // namespace dte::server
