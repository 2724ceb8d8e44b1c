#include "telemetry/tracing.h"

namespace dte {

Tracing::Tracing(const TracingOptions& options)
    : tracer_(TracerOptions{options.service_name, options.sample_ratio}),
      store_(std::make_shared<TraceStore>(options.store, options.service_name)) {}

Result<std::unique_ptr<Tracing>> Tracing::Create(TracingOptions options,
                                                 prometheus::Registry* registry) {
  if (!(options.sample_ratio >= 0 && options.sample_ratio <= 1))
    return Status::InvalidArgument("--trace-sample-ratio must be in [0, 1]");
  std::unique_ptr<Tracing> tracing(new Tracing(options));
  tracing->tracer_.AddSink(tracing->store_);
  if (!options.otlp_endpoint.empty()) {
    OtlpExporterOptions e = options.exporter;
    e.endpoint = options.otlp_endpoint;
    e.resource.service_name = options.service_name;
    e.resource.attributes = options.resource_attributes;
    auto exporter = OtlpExporter::Create(std::move(e), registry);
    if (!exporter.ok()) return exporter.status();
    tracing->exporter_ = std::move(exporter).value();
    tracing->tracer_.AddSink(tracing->exporter_);
  }
  return tracing;
}

void Tracing::Shutdown(std::chrono::milliseconds deadline) {
  if (exporter_) exporter_->Shutdown(deadline);
}

}  // namespace dte
