#pragma once
// Encodes spans as an OTLP/HTTP JSON ExportTraceServiceRequest
// (opentelemetry-proto, JSON Protobuf encoding with the OTLP exceptions): traceId/spanId as
// lowercase hex, 64-bit integers (times, intValue) as decimal strings, enums as integers,
// lowerCamelCase field names. Pure functions.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "telemetry/span.h"

namespace dte {

struct OtlpResource {
  std::string service_name = "dte";
  std::vector<Attribute> attributes;  // more resource attributes (service.instance.id, ...)
  std::string scope_name = "dte";
  std::string scope_version = "0.1";
};

nlohmann::json OtlpAnyValue(const AttributeValue& value);
nlohmann::json OtlpAttributes(const std::vector<Attribute>& attributes);
nlohmann::json OtlpSpan(const SpanData& span);
// {"resourceSpans":[{"resource":{...},"scopeSpans":[{"scope":{...},"spans":[...]}]}]}
nlohmann::json OtlpTraceRequest(const OtlpResource& resource,
                                const std::vector<std::shared_ptr<const SpanData>>& spans);

}  // namespace dte
