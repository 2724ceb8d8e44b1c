#pragma once
// GET /v1/dashboard/summary for the router's live dashboard (web/dashboard): a typed sample of
// the fleet recorded at each evaluation tick, and the JSON body combining the history with the
// current alerts, workers and recent traces. The format is in docs/observability.md.
//
// Threading: RecordDashboardSample and RenderDashboardSummary are thread-safe (DashboardHistory,
// AlertEvaluator and TraceStore lock internally).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "telemetry/alerts.h"
#include "telemetry/time_series.h"
#include "telemetry/trace_store.h"

namespace dte {

// One tick of fleet-wide measurements (over the last interval). Absent values leave a gap.
struct DashboardSample {
  std::optional<double> request_rate;  // requests/s
  std::optional<double> error_ratio;   // 0..1
  std::optional<double> ttft_p50, ttft_p95, ttft_p99;  // seconds
  std::optional<double> tpot_p50, tpot_p95, tpot_p99;  // seconds
  std::optional<double> queue_depth;
  std::optional<double> active_sequences;
  std::optional<double> workers;
  std::map<std::string, double> cache_hit_ratio;  // tier -> 0..1
};

void RecordDashboardSample(DashboardHistory& history, int64_t unix_ms, const DashboardSample& sample);

// `workers`: an array of {"id","url","state","healthy","active_sequences","queue_depth","outstanding"}.
// `alerts` / `traces` may be null (empty sections).
std::string RenderDashboardSummary(const DashboardHistory& history, int64_t now_ms, int64_t interval_ms,
                                   const AlertEvaluator* alerts, const TraceStore* traces,
                                   nlohmann::json workers = nlohmann::json::array(), size_t max_traces = 10);

}  // namespace dte
