#include "telemetry/dashboard_summary.h"

#include <cmath>

namespace dte {

void RecordDashboardSample(DashboardHistory& history, int64_t unix_ms, const DashboardSample& s) {
  const std::pair<const char*, const std::optional<double>*> fields[] = {
      {"request_rate", &s.request_rate}, {"error_ratio", &s.error_ratio},
      {"ttft_p50", &s.ttft_p50},         {"ttft_p95", &s.ttft_p95},
      {"ttft_p99", &s.ttft_p99},         {"tpot_p50", &s.tpot_p50},
      {"tpot_p95", &s.tpot_p95},         {"tpot_p99", &s.tpot_p99},
      {"queue_depth", &s.queue_depth},   {"active_sequences", &s.active_sequences},
      {"workers", &s.workers},
  };
  // An absent value is recorded as a gap (NaN renders as null) so the lines break honestly.
  for (const auto& [name, value] : fields) history.Record(name, unix_ms, value->value_or(std::nan("")));
  for (const auto& [tier, ratio] : s.cache_hit_ratio) history.Record("cache_hit_ratio." + tier, unix_ms, ratio);
}

std::string RenderDashboardSummary(const DashboardHistory& history, int64_t now_ms, int64_t interval_ms,
                                   const AlertEvaluator* alerts, const TraceStore* traces,
                                   nlohmann::json workers, size_t max_traces) {
  nlohmann::json extra = nlohmann::json::object();
  extra["workers"] = workers.is_array() ? std::move(workers) : nlohmann::json::array();
  extra["alerts"] = alerts ? alerts->ToJson()["alerts"] : nlohmann::json::array();
  nlohmann::json trace_list = nlohmann::json::array();
  if (traces) {
    TraceQuery q;
    q.limit = max_traces;
    for (const auto& t : traces->Recent(q)) trace_list.push_back(TraceSummaryJson(t));
  }
  extra["traces"] = std::move(trace_list);
  return history.Summary(now_ms, interval_ms, std::move(extra)).dump();
}

}  // namespace dte
