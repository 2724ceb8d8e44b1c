#pragma once
// FleetTracker: turns successive scrapes of the workers' /metrics (and the router's own request
// counters) into the measurements of one evaluation interval: the AlertMetrics the alert rules
// read and the DashboardSample the live dashboard draws. Counters and histograms are differenced
// against the previous scrape of the same worker (a worker seen for the first time contributes
// nothing until its second scrape); gauges are taken as they are.
//
// Threading: not synchronized; the router's evaluation loop owns it.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "router/prom_text.h"
#include "telemetry/alerts.h"
#include "telemetry/dashboard_summary.h"

namespace dte::router {

struct WorkerGauges {
  std::optional<double> active_sequences;
  std::optional<double> queue_depth;
};

struct FleetSnapshot {
  AlertMetrics alert;
  DashboardSample dashboard;
  std::map<std::string, WorkerGauges> workers;  // by backend URL
};

class FleetTracker {
 public:
  // `scraped`: parsed /metrics per backend URL (backends that did not answer are absent).
  // `router_requests` / `router_failed`: the router's cumulative answered / 5xx counts.
  FleetSnapshot Update(SteadyClock::time_point now,
                       const std::map<std::string, std::vector<PromSample>>& scraped,
                       uint64_t router_requests, uint64_t router_failed);

 private:
  std::map<std::string, std::vector<PromSample>> previous_;
  std::optional<SteadyClock::time_point> last_time_;
  uint64_t last_requests_ = 0, last_failed_ = 0;
};

}  // namespace dte::router
