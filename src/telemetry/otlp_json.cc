#include "telemetry/otlp_json.h"

#include <cmath>

namespace dte {

nlohmann::json OtlpAnyValue(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          return {{"stringValue", v}};
        } else if constexpr (std::is_same_v<V, int64_t>) {
          return {{"intValue", std::to_string(v)}};  // int64 is a string in proto3 JSON
        } else if constexpr (std::is_same_v<V, double>) {
          if (std::isfinite(v)) return {{"doubleValue", v}};
          return {{"doubleValue", std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")}};
        } else {
          return {{"boolValue", v}};
        }
      },
      value);
}

nlohmann::json OtlpAttributes(const std::vector<Attribute>& attributes) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : attributes)
    list.push_back({{"key", a.key}, {"value", OtlpAnyValue(a.value)}});
  return list;
}

nlohmann::json OtlpSpan(const SpanData& s) {
  nlohmann::json j = {{"traceId", s.trace_id.Hex()},
                      {"spanId", s.span_id.Hex()},
                      {"name", s.name},
                      {"kind", static_cast<int>(s.kind)},
                      {"startTimeUnixNano", std::to_string(s.start_unix_nano)},
                      {"endTimeUnixNano", std::to_string(s.end_unix_nano)},
                      {"attributes", OtlpAttributes(s.attributes)}};
  if (s.parent_span_id.IsValid()) j["parentSpanId"] = s.parent_span_id.Hex();
  // SpanFlags: bits 0-7 are the W3C trace flags (always sampled here: only sampled spans are
  // recorded); bit 8 says the remote-ness of the parent is known, bit 9 that it is remote.
  j["flags"] = 0x01 | 0x100 | (s.remote_parent ? 0x200 : 0);
  if (!s.events.empty()) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : s.events)
      events.push_back({{"timeUnixNano", std::to_string(e.time_unix_nano)},
                        {"name", e.name},
                        {"attributes", OtlpAttributes(e.attributes)}});
    j["events"] = std::move(events);
  }
  nlohmann::json status = {{"code", static_cast<int>(s.status)}};
  if (!s.status_message.empty()) status["message"] = s.status_message;
  j["status"] = std::move(status);
  return j;
}

nlohmann::json OtlpTraceRequest(const OtlpResource& resource,
                                const std::vector<std::shared_ptr<const SpanData>>& spans) {
  std::vector<Attribute> attributes = {{"service.name", resource.service_name}};
  attributes.insert(attributes.end(), resource.attributes.begin(), resource.attributes.end());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : spans) list.push_back(OtlpSpan(*s));
  nlohmann::json scope = {
      {"scope", {{"name", resource.scope_name}, {"version", resource.scope_version}}},
      {"spans", std::move(list)}};
  nlohmann::json resource_entry = {{"resource", {{"attributes", OtlpAttributes(attributes)}}},
                                   {"scopeSpans", nlohmann::json::array({std::move(scope)})}};
  nlohmann::json request = nlohmann::json::object();
  request["resourceSpans"] = nlohmann::json::array({std::move(resource_entry)});
  return request;
}

}  // namespace dte
