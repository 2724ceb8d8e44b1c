#include "telemetry/tracer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dte {

Tracer::Tracer(TracerOptions options) : options_(std::move(options)) {
  double r = std::clamp(options_.sample_ratio, 0.0, 1.0);
  options_.sample_ratio = r;
  // threshold = r * 2^64, saturating; ratio 1 is handled separately in ShouldSample.
  sample_threshold_ =
      r >= 1.0 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(std::ldexp(r, 64));
}

void Tracer::AddSink(std::shared_ptr<SpanSink> sink) { sinks_.push_back(std::move(sink)); }

bool Tracer::ShouldSample(const TraceId& id) const {
  if (options_.sample_ratio >= 1.0) return true;
  if (options_.sample_ratio <= 0.0) return false;
  return id.LowBits() < sample_threshold_;
}

Span Tracer::Start(std::string_view name, SpanKind kind, TraceContext context, SpanId parent,
                   bool remote) const {
  if (!context.sampled) return Span(this, context, nullptr);
  auto data = std::make_unique<SpanData>();
  data->trace_id = context.trace_id;
  data->span_id = context.span_id;
  data->parent_span_id = parent;
  data->remote_parent = remote;
  data->name = std::string(name);
  data->kind = kind;
  data->start_unix_nano = UnixNanosNow();
  return Span(this, context, std::move(data));
}

Span Tracer::StartSpan(std::string_view name, SpanKind kind) const {
  TraceContext c;
  c.trace_id = TraceId::Random();
  c.span_id = SpanId::Random();
  c.sampled = ShouldSample(c.trace_id);
  return Start(name, kind, c, SpanId{}, false);
}

Span Tracer::StartSpan(std::string_view name, const TraceContext& parent, SpanKind kind,
                       bool remote_parent) const {
  if (!parent.IsValid()) return StartSpan(name, kind);
  TraceContext c;
  c.trace_id = parent.trace_id;
  c.span_id = SpanId::Random();
  c.sampled = parent.sampled;
  return Start(name, kind, c, parent.span_id, remote_parent);
}

Span Tracer::StartSpanAt(std::string_view name, const TraceContext& parent, int64_t start_unix_nano,
                         SpanKind kind) const {
  Span span = StartSpan(name, parent, kind);
  if (span.data_) span.data_->start_unix_nano = start_unix_nano;
  return span;
}

Span Tracer::StartServerSpan(std::string_view name, std::string_view traceparent_header) const {
  if (!traceparent_header.empty()) {
    auto parent = ParseTraceparent(traceparent_header);
    if (parent.ok()) return StartSpan(name, *parent, SpanKind::kServer, true);
  }
  return StartSpan(name, SpanKind::kServer);
}

void Tracer::Finish(std::unique_ptr<SpanData> data) const {
  if (sinks_.empty()) return;
  std::shared_ptr<const SpanData> shared(std::move(data));
  for (const auto& sink : sinks_) sink->OnEnd(shared);
}

}  // namespace dte
