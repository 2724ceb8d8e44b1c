#pragma once
// A Prometheus registry (prometheus-cpp core) plus this process's standard metrics
// (process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds,
// process_open_fds), serialized in the text exposition format for GET /metrics.
// Metric objects are thread-safe; register families at start-up.

#include <memory>
#include <mutex>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace dte {

class MetricsRegistry {
 public:
  MetricsRegistry();
  prometheus::Registry& registry() { return *registry_; }
  // Text format (version 0.0.4) of every family, process metrics refreshed first.
  std::string Serialize() const;

  // Exponential bucket bounds: start, start*factor, ... (count values).
  static prometheus::Histogram::BucketBoundaries ExponentialBuckets(double start, double factor, int count);

 private:
  void RefreshProcessMetrics() const;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* cpu_seconds_;
  mutable std::mutex cpu_mu_;
  mutable double cpu_reported_ = 0;  // guarded by cpu_mu_
  prometheus::Gauge* rss_bytes_;
  prometheus::Gauge* open_fds_;
};

// Reads this process's resident set size (bytes) and CPU time (seconds) from /proc.
struct ProcessUsage {
  double cpu_seconds = 0;
  double rss_bytes = 0;
  double peak_rss_bytes = 0;
  double open_fds = 0;
};
ProcessUsage ReadProcessUsage();

}  // namespace dte
