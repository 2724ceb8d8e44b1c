#pragma once
// Exports finished spans to an OTLP/HTTP JSON endpoint (Jaeger >= 1.35, the OpenTelemetry
// Collector: http://host:4318/v1/traces). Spans go into a bounded queue (full: dropped and
// counted); a background thread sends batches of up to max_batch_spans, at least every
// max_delay, and retries 429/502/503/504 and network errors with exponential backoff
// (honouring Retry-After); other responses are final. Shutdown() flushes what is queued.
//
// Metrics (when a registry is given): dte_trace_spans_exported_total,
// dte_trace_spans_dropped_total{reason="queue_full"|"export_failed"|"shutdown"},
// dte_trace_export_requests_total{result="ok"|"retry"|"failed"}.
//
// Threading: OnEnd is thread-safe and never blocks on the network; Flush/Shutdown may be called
// from any thread. The transport is only used by the background thread.

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/http_post.h"
#include "telemetry/otlp_json.h"
#include "telemetry/tracer.h"

namespace dte {

struct OtlpExporterOptions {
  std::string endpoint;  // http://host:4318/v1/traces (used by Create)
  OtlpResource resource;
  size_t max_queue_spans = 2048;
  size_t max_batch_spans = 512;
  std::chrono::milliseconds max_delay{1000};  // a partial batch waits at most this long
  std::chrono::milliseconds request_timeout{5000};
  int max_attempts = 5;  // per batch, the first included
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{8000};  // also caps Retry-After
};

struct OtlpExporterStats {
  uint64_t exported = 0, dropped_queue_full = 0, dropped_export_failed = 0, dropped_shutdown = 0;
  uint64_t requests = 0, retries = 0;
};

class OtlpExporter : public SpanSink {
 public:
  // `registry` may be null (no metrics). Starts the background thread.
  OtlpExporter(OtlpExporterOptions options, std::unique_ptr<OtlpTransport> transport,
               prometheus::Registry* registry = nullptr);
  // The usual construction: an HttpJsonTransport to options.endpoint.
  static Result<std::shared_ptr<OtlpExporter>> Create(OtlpExporterOptions options,
                                                      prometheus::Registry* registry = nullptr);
  ~OtlpExporter() override;  // Shutdown(2 s) if not done yet

  void OnEnd(std::shared_ptr<const SpanData> span) override;

  // Sends everything queued now; true when the queue drained within `timeout`.
  bool Flush(std::chrono::milliseconds timeout);
  // Stops accepting spans, sends what is queued (retries stop at the deadline), joins the thread.
  // Spans still unsent at the deadline are counted as dropped{reason="shutdown"}.
  void Shutdown(std::chrono::milliseconds timeout);

  OtlpExporterStats stats() const;
  size_t queued() const;

 private:
  void Run();
  // Sends one batch with retries; returns false when it gave up.
  bool Export(const std::vector<std::shared_ptr<const SpanData>>& batch);
  // Sleeps up to `d`, or less if a shutdown deadline passes; false when the deadline passed.
  bool Backoff(std::chrono::milliseconds d);

  const OtlpExporterOptions options_;
  std::unique_ptr<OtlpTransport> transport_;
  prometheus::Counter* exported_counter_ = nullptr;
  prometheus::Counter* dropped_full_counter_ = nullptr;
  prometheus::Counter* dropped_failed_counter_ = nullptr;
  prometheus::Counter* dropped_shutdown_counter_ = nullptr;
  prometheus::Counter* requests_ok_counter_ = nullptr;
  prometheus::Counter* requests_retry_counter_ = nullptr;
  prometheus::Counter* requests_failed_counter_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable wake_;     // the worker: spans queued, flush requested, stopping
  std::condition_variable drained_;  // Flush waiters
  std::deque<std::shared_ptr<const SpanData>> queue_;  // guarded by mu_
  size_t in_flight_ = 0;         // spans taken but not finished, guarded by mu_
  uint64_t flush_requests_ = 0;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  bool joined_ = false;
  std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::time_point::max();  // guarded by mu_
  OtlpExporterStats stats_;                          // guarded by mu_
  std::thread thread_;
};

}  // namespace dte
