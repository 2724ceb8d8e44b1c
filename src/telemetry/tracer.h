#pragma once
// The Tracer starts spans (new roots, children of local spans, or children of a remote
// `traceparent`), applies head sampling, and hands finished spans to its sinks (the in-memory
// TraceStore, the OTLP exporter).
//
// Threading: StartSpan is thread-safe and lock-free. Add sinks before spans are started; sinks
// are called on the thread that ends a span and must not block (both of ours only enqueue).
// The Tracer must outlive every Span it started (make it a long-lived member of the service).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/span.h"

namespace dte {

// Receives every finished, sampled span.
class SpanSink {
 public:
  virtual ~SpanSink() = default;
  virtual void OnEnd(std::shared_ptr<const SpanData> span) = 0;
};

struct TracerOptions {
  std::string service_name = "dte";
  // Head sampling for new traces: 1.0 records all, 0 none. A child of a remote or local parent
  // follows the parent's sampled flag instead (ParentBased(TraceIdRatioBased) in OpenTelemetry).
  double sample_ratio = 1.0;
};

class Tracer {
 public:
  explicit Tracer(TracerOptions options = {});
  const TracerOptions& options() const { return options_; }
  const std::string& service_name() const { return options_.service_name; }

  void AddSink(std::shared_ptr<SpanSink> sink);

  // A root span (new trace id), sampled by ratio.
  Span StartSpan(std::string_view name, SpanKind kind = SpanKind::kInternal) const;
  // A child of `parent` (a remote context from `traceparent`, or a local span's context); an
  // invalid parent starts a new root instead.
  Span StartSpan(std::string_view name, const TraceContext& parent,
                 SpanKind kind = SpanKind::kInternal, bool remote_parent = false) const;
  // A span that began earlier (start_unix_nano, e.g. when a request was enqueued): for work
  // timed elsewhere (the scheduler records timestamps; the handler makes the spans afterwards
  // and ends them with Span::End(end_unix_nano)). An invalid parent starts a new root.
  Span StartSpanAt(std::string_view name, const TraceContext& parent, int64_t start_unix_nano,
                   SpanKind kind = SpanKind::kInternal) const;
  // A server span for an incoming request: child of the header when it parses, root otherwise.
  Span StartServerSpan(std::string_view name, std::string_view traceparent_header) const;

  // The sampling decision for a new trace with this id.
  bool ShouldSample(const TraceId& id) const;

 private:
  friend class Span;
  void Finish(std::unique_ptr<SpanData> data) const;
  Span Start(std::string_view name, SpanKind kind, TraceContext context, SpanId parent,
             bool remote) const;

  TracerOptions options_;
  uint64_t sample_threshold_;  // sample when LowBits() < threshold (or always at ratio 1)
  std::vector<std::shared_ptr<SpanSink>> sinks_;
};

}  // namespace dte
