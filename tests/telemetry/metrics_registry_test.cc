#include "telemetry/metrics_registry.h"

#include <gtest/gtest.h>

namespace dte {
namespace {

TEST(MetricsRegistryTest, SerializesFamiliesAndProcessMetrics) {
  MetricsRegistry m;
  auto& family = prometheus::BuildCounter().Name("dte_test_total").Help("test counter").Register(m.registry());
  family.Add({{"route", "/x"}}).Increment(3);
  auto& h = prometheus::BuildHistogram().Name("dte_test_seconds").Help("test histogram").Register(m.registry());
  h.Add({}, MetricsRegistry::ExponentialBuckets(0.001, 2, 4)).Observe(0.003);
  std::string text = m.Serialize();
  EXPECT_NE(text.find("dte_test_total{route=\"/x\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("dte_test_seconds_bucket{le=\"0.004\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(text.find("process_cpu_seconds_total"), std::string::npos);
}

TEST(MetricsRegistryTest, ProcessUsageIsPlausible) {
  ProcessUsage u = ReadProcessUsage();
  EXPECT_GT(u.rss_bytes, 1e6);
  EXPECT_GE(u.peak_rss_bytes, u.rss_bytes * 0.5);
  EXPECT_GE(u.open_fds, 3);
}

}  // namespace
}  // namespace dte
