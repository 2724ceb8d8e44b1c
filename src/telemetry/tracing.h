#pragma once
// One-call tracing set-up for a process (`dte serve`, `dte route`): a Tracer with head sampling,
// the in-memory TraceStore behind GET /v1/traces, and, when an endpoint is given, the OTLP/HTTP
// JSON exporter with its metrics in the process's registry.
//
// Threading: create once at start-up; tracer() and store() are then safe from any thread.
// Call Shutdown() during drain (after the HTTP server stopped) to flush the exporter.

#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "telemetry/otlp_exporter.h"
#include "telemetry/trace_store.h"
#include "telemetry/tracer.h"

namespace dte {

struct TracingOptions {
  std::string service_name = "dte";            // "dte-worker", "dte-router"
  double sample_ratio = 1.0;                   // --trace-sample-ratio
  std::string otlp_endpoint;                   // --otlp-endpoint; empty: keep traces in memory only
  std::vector<Attribute> resource_attributes;  // e.g. service.instance.id
  TraceStoreOptions store;
  OtlpExporterOptions exporter;  // batching/retry knobs; endpoint and resource are filled in
};

class Tracing {
 public:
  // InvalidArgument for a ratio outside [0, 1]; Unsupported/InvalidArgument for a bad endpoint.
  static Result<std::unique_ptr<Tracing>> Create(TracingOptions options,
                                                 prometheus::Registry* registry);

  const Tracer& tracer() const { return tracer_; }
  const TraceStore& store() const { return *store_; }
  OtlpExporter* exporter() const { return exporter_.get(); }  // null without an endpoint

  // Flushes and stops the exporter (spans still unsent at the deadline are counted as dropped).
  void Shutdown(std::chrono::milliseconds deadline);

 private:
  explicit Tracing(const TracingOptions& options);
  Tracer tracer_;
  std::shared_ptr<TraceStore> store_;
  std::shared_ptr<OtlpExporter> exporter_;
};

}  // namespace dte
