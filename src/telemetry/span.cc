#include "telemetry/span.h"

#include <chrono>

#include "telemetry/tracer.h"

namespace dte {

std::string_view SpanKindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kUnspecified:
      return "unspecified";
    case SpanKind::kInternal:
      return "internal";
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
  }
  return "unspecified";
}

std::string_view SpanStatusName(SpanStatusCode code) {
  switch (code) {
    case SpanStatusCode::kUnset:
      return "unset";
    case SpanStatusCode::kOk:
      return "ok";
    case SpanStatusCode::kError:
      return "error";
  }
  return "unset";
}

int64_t UnixNanosNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const AttributeValue* SpanData::FindAttribute(std::string_view key) const {
  for (const auto& a : attributes)
    if (a.key == key) return &a.value;
  return nullptr;
}

namespace {
size_t AttributesBytes(const std::vector<Attribute>& attributes) {
  size_t n = attributes.capacity() * sizeof(Attribute);
  for (const auto& a : attributes) {
    n += a.key.capacity();
    if (const auto* s = std::get_if<std::string>(&a.value)) n += s->capacity();
  }
  return n;
}
}  // namespace

size_t SpanData::ApproxBytes() const {
  size_t n =
      sizeof(SpanData) + name.capacity() + status_message.capacity() + AttributesBytes(attributes);
  for (const auto& e : events)
    n += sizeof(SpanEvent) + e.name.capacity() + AttributesBytes(e.attributes);
  return n;
}

Span::Span(Span&& other) noexcept
    : tracer_(other.tracer_), context_(other.context_), data_(std::move(other.data_)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    tracer_ = other.tracer_;
    context_ = other.context_;
    data_ = std::move(other.data_);
  }
  return *this;
}

Span::~Span() { End(); }

void Span::SetAttributeValue(std::string_view key, AttributeValue value) {
  for (auto& a : data_->attributes) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  data_->attributes.push_back({std::string(key), std::move(value)});
}

Span& Span::SetAttribute(std::string_view key, std::string_view value) {
  if (data_) SetAttributeValue(key, std::string(value));
  return *this;
}
Span& Span::SetAttribute(std::string_view key, int64_t value) {
  if (data_) SetAttributeValue(key, value);
  return *this;
}
Span& Span::SetAttribute(std::string_view key, double value) {
  if (data_) SetAttributeValue(key, value);
  return *this;
}
Span& Span::SetAttribute(std::string_view key, bool value) {
  if (data_) SetAttributeValue(key, value);
  return *this;
}

Span& Span::AddEvent(std::string_view name, std::vector<Attribute> attributes) {
  if (data_) data_->events.push_back({std::string(name), UnixNanosNow(), std::move(attributes)});
  return *this;
}

Span& Span::SetStatus(SpanStatusCode code, std::string_view message) {
  if (!data_ || code == SpanStatusCode::kUnset) return *this;
  if (data_->status == SpanStatusCode::kError) return *this;  // an error is final
  data_->status = code;
  data_->status_message = code == SpanStatusCode::kError ? std::string(message) : std::string();
  return *this;
}

void Span::SetName(std::string_view name) {
  if (data_) data_->name = std::string(name);
}

void Span::End() {
  if (data_) End(UnixNanosNow());
}

void Span::End(int64_t end_unix_nano) {
  if (!data_) return;
  data_->end_unix_nano = std::max(end_unix_nano, data_->start_unix_nano);
  tracer_->Finish(std::move(data_));
}

}  // namespace dte
