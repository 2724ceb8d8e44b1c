#pragma once
// Spans (OpenTelemetry data model, the subset we use): SpanData is the immutable record of a
// finished span, shared read-only between the trace store and the exporter; Span is the live
// handle a request holds while the work happens.
//
// Threading: a Span is used by one thread at a time (move it between threads freely); ending it
// hands a std::shared_ptr<const SpanData> to the Tracer's sinks, which may be read from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "telemetry/trace_context.h"

namespace dte {

class Tracer;

// Values match the OTLP protobuf enums (they are exported as these integers).
enum class SpanKind {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum class SpanStatusCode { kUnset = 0, kOk = 1, kError = 2 };

std::string_view SpanKindName(SpanKind kind);          // "internal", "server", ...
std::string_view SpanStatusName(SpanStatusCode code);  // "unset", "ok", "error"

using AttributeValue = std::variant<std::string, int64_t, double, bool>;
struct Attribute {
  std::string key;
  AttributeValue value;
};

struct SpanEvent {
  std::string name;
  int64_t time_unix_nano = 0;
  std::vector<Attribute> attributes;
};

struct SpanData {
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;       // all zero for a root span
  bool remote_parent = false;  // the parent came from a traceparent header
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  std::vector<Attribute> attributes;
  std::vector<SpanEvent> events;
  SpanStatusCode status = SpanStatusCode::kUnset;
  std::string status_message;

  double DurationMs() const { return static_cast<double>(end_unix_nano - start_unix_nano) / 1e6; }
  const AttributeValue* FindAttribute(std::string_view key) const;
  // A rough heap footprint, for the trace store's byte budget.
  size_t ApproxBytes() const;
};

// Nanoseconds since the unix epoch (system clock).
int64_t UnixNanosNow();

// A live span. A span that is not sampled records nothing (every setter is a cheap no-op) but
// still carries a context to propagate. Ends on End() or destruction, whichever comes first.
class Span {
 public:
  Span() = default;  // an inert, invalid span
  Span(Span&&) noexcept;
  Span& operator=(Span&&) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span();

  bool IsRecording() const { return data_ != nullptr; }
  // The context to pass on (to child spans, or as `traceparent` to the next process).
  const TraceContext& context() const { return context_; }
  std::string Traceparent() const { return FormatTraceparent(context_); }

  Span& SetAttribute(std::string_view key, std::string_view value);
  Span& SetAttribute(std::string_view key, const char* value) {
    return SetAttribute(key, std::string_view(value));
  }
  Span& SetAttribute(std::string_view key, int64_t value);
  Span& SetAttribute(std::string_view key, int value) {
    return SetAttribute(key, static_cast<int64_t>(value));
  }
  Span& SetAttribute(std::string_view key, double value);
  Span& SetAttribute(std::string_view key, bool value);
  Span& AddEvent(std::string_view name, std::vector<Attribute> attributes = {});
  // Error wins over ok; the first error's message is kept (OpenTelemetry semantics).
  Span& SetStatus(SpanStatusCode code, std::string_view message = {});
  void SetName(std::string_view name);

  // Records the end time and hands the span to the tracer's sinks. Idempotent.
  void End();
  void End(int64_t end_unix_nano);

 private:
  friend class Tracer;
  Span(const Tracer* tracer, TraceContext context, std::unique_ptr<SpanData> data)
      : tracer_(tracer), context_(context), data_(std::move(data)) {}
  void SetAttributeValue(std::string_view key, AttributeValue value);

  const Tracer* tracer_ = nullptr;
  TraceContext context_;
  std::unique_ptr<SpanData> data_;  // null when not recording or already ended
};

}  // namespace dte
