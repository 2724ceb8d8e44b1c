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
    : requests_(BuildCounter().Name("dte_requests_total").Help("HTTP requests by route and status code.")
                    .Register(registry_.registry())),
      request_duration_(BuildHistogram().Name("dte_request_duration_seconds")
                            .Help("HTTP request duration, first byte in to last byte out.")
                            .Register(registry_.registry())),
      ttft_(BuildHistogram().Name("dte_time_to_first_token_seconds")
                .Help("Time from request admission to the first generated token.")
                .Register(registry_.registry())
                .Add({}, LatencyBuckets())),
      tpot_(BuildHistogram().Name("dte_time_per_output_token_seconds")
                .Help("Mean time per generated token after the first, per request.")
                .Register(registry_.registry())
                .Add({}, MetricsRegistry::ExponentialBuckets(0.0005, 2, 14))),
      batch_size_(BuildHistogram().Name("dte_batch_size").Help("Sequences in each forward step.")
                      .Register(registry_.registry())
                      .Add({}, MetricsRegistry::ExponentialBuckets(1, 2, 11))),
      step_duration_(BuildHistogram().Name("dte_step_duration_seconds")
                         .Help("Duration of one batched forward step (prefill and decode).")
                         .Register(registry_.registry())
                         .Add({}, MetricsRegistry::ExponentialBuckets(0.0005, 2, 14))),
      prompt_tokens_(BuildCounter().Name("dte_prompt_tokens_total").Help("Prompt tokens prefilled.")
                         .Register(registry_.registry()).Add({})),
      generated_tokens_(BuildCounter().Name("dte_generated_tokens_total").Help("Tokens generated.")
                            .Register(registry_.registry()).Add({})),
      queue_depth_(BuildGauge().Name("dte_queue_depth").Help("Requests waiting for a batch slot.")
                       .Register(registry_.registry()).Add({})),
      active_sequences_(BuildGauge().Name("dte_active_sequences").Help("Sequences in the running batch.")
                            .Register(registry_.registry()).Add({})),
      sessions_(BuildGauge().Name("dte_sessions").Help("Open sessions.").Register(registry_.registry()).Add({})),
      state_bytes_(BuildGauge().Name("dte_state_bytes").Help("Bytes of RWKV state held by sessions.")
                       .Register(registry_.registry()).Add({})) {}

void WorkerMetrics::ObserveRequest(const std::string& route, int status, double seconds) {
  requests_.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
  request_duration_.Add({{"route", route}}, LatencyBuckets()).Observe(seconds);
}

std::string WorkerMetrics::Serialize(const EngineStats& stats) {
  queue_depth_.Set(static_cast<double>(stats.queue_depth));
  active_sequences_.Set(static_cast<double>(stats.active_sequences));
  sessions_.Set(static_cast<double>(stats.sessions));
  state_bytes_.Set(static_cast<double>(stats.session_state_bytes));
  return registry_.Serialize();
}

void WorkerMetrics::OnStep(int64_t sequences, int64_t tokens, double seconds) {
  batch_size_.Observe(static_cast<double>(sequences));
  step_duration_.Observe(seconds);
}

void WorkerMetrics::OnFirstToken(double seconds) { ttft_.Observe(seconds); }

void WorkerMetrics::OnFinished(const Usage& usage, FinishReason, double, double seconds_per_output_token) {
  prompt_tokens_.Increment(static_cast<double>(usage.prompt_tokens));
  generated_tokens_.Increment(static_cast<double>(usage.completion_tokens));
  if (usage.completion_tokens > 1) tpot_.Observe(seconds_per_output_token);
}

}  // namespace dte::server
