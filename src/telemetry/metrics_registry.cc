#include "telemetry/metrics_registry.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <prometheus/text_serializer.h>

namespace dte {

ProcessUsage ReadProcessUsage() {
  ProcessUsage u;
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    u.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    u.peak_rss_bytes = static_cast<double>(ru.ru_maxrss) * 1024.0;
  }
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long pages_total = 0, pages_resident = 0;
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) == 2)
      u.rss_bytes = static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    int n = 0;
    while (struct dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    u.open_fds = n - 1;  // not counting the directory handle itself
  }
  return u;
}

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {
  cpu_seconds_ = &prometheus::BuildCounter()
                      .Name("process_cpu_seconds_total")
                      .Help("Total user and system CPU time spent in seconds.")
                      .Register(*registry_)
                      .Add({});
  rss_bytes_ = &prometheus::BuildGauge()
                    .Name("process_resident_memory_bytes")
                    .Help("Resident memory size in bytes.")
                    .Register(*registry_)
                    .Add({});
  open_fds_ = &prometheus::BuildGauge()
                   .Name("process_open_fds")
                   .Help("Number of open file descriptors.")
                   .Register(*registry_)
                   .Add({});
  const double start = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  prometheus::BuildGauge()
      .Name("process_start_time_seconds")
      .Help("Start time of the process since unix epoch in seconds.")
      .Register(*registry_)
      .Add({})
      .Set(start);
}

void MetricsRegistry::RefreshProcessMetrics() const {
  ProcessUsage u = ReadProcessUsage();
  {
    std::lock_guard<std::mutex> lock(cpu_mu_);  // a counter only goes up: add the new CPU time
    if (u.cpu_seconds > cpu_reported_) cpu_seconds_->Increment(u.cpu_seconds - cpu_reported_);
    cpu_reported_ = std::max(cpu_reported_, u.cpu_seconds);
  }
  rss_bytes_->Set(u.rss_bytes);
  open_fds_->Set(u.open_fds);
}

std::string MetricsRegistry::Serialize() const {
  RefreshProcessMetrics();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

prometheus::Histogram::BucketBoundaries MetricsRegistry::ExponentialBuckets(double start, double factor, int count) {
  prometheus::Histogram::BucketBoundaries b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

}  // namespace dte
