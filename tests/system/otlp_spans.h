#pragma once
// Reads the spans a LoopbackReceiver got as OTLP/HTTP JSON (ExportTraceServiceRequest bodies).

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "telemetry/loopback_receiver.h"

namespace dte::testing {

struct OtlpSpan {
  nlohmann::json span;
  std::string service;  // the resource's service.name
};

// Every span of `trace_id` the receiver got, by name (the last one of each name).
inline std::map<std::string, OtlpSpan> OtlpSpans(const LoopbackReceiver& otlp,
                                                 const std::string& trace_id) {
  using json = nlohmann::json;
  std::map<std::string, OtlpSpan> out;
  for (const auto& req : otlp.requests()) {
    const json j = json::parse(req.body, nullptr, false);
    if (!j.is_object() || !j.contains("resourceSpans")) continue;
    for (const json& rs : j["resourceSpans"]) {
      std::string service;
      for (const json& a : rs["resource"].value("attributes", json::array()))
        if (a["key"] == "service.name") service = a["value"].value("stringValue", "");
      for (const json& ss : rs.value("scopeSpans", json::array()))
        for (const json& s : ss.value("spans", json::array()))
          if (s.value("traceId", "") == trace_id) out[s.value("name", "")] = {s, service};
    }
  }
  return out;
}

// An OTLP attribute's value (JSON encoding: {"key":..., "value":{"intValue":"21"}}), or null.
inline nlohmann::json OtlpAttr(const nlohmann::json& span, const std::string& key) {
  for (const nlohmann::json& a : span.value("attributes", nlohmann::json::array()))
    if (a["key"] == key) return a["value"];
  return nullptr;
}

}  // namespace dte::testing
