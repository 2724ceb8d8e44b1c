#pragma once
// The reports of a run: the JSON report (what was run — target, scenario, workload, bounds —
// and what was measured, Recorder::MeasurementsJson, plus a grade), a comparison of two runs
// (--compare: both reports and the ratios B/A), and a plain-text summary table for the
// terminal. docs/benchmarking.md describes every field and the grading.
//
// Grade (against the run's SLOs; without --slo the defaults ttft=1s,tpot=100ms are used):
// good = requests that succeeded and met every SLO, as a fraction of all requests;
//   A: good >= 99 % and errors <= 0.1 %     B: good >= 95 % and errors <= 1 %
//   C: good >= 90 % and errors <= 2 %       D: good >= 75 % and errors <= 5 %
//   F: anything worse, or no successful request at all.
// Plain functions.

#include <nlohmann/json.hpp>
#include <string>

#include "bench/load_context.h"
#include "bench/recorder.h"
#include "bench/target.h"
#include "bench/workload.h"

namespace dte::bench {

// Where the load came from, for the report's config.
struct RunDescription {
  std::string mode;   // "closed", "open" or "trace"
  std::string trace;  // the trace file, for "trace"
  double trace_time_scale = 1, trace_length_scale = 1;
  double time_scale = 1;  // --time-scale applied to the scenario
  bool default_slo = false;
};

nlohmann::ordered_json ReportObject(const Target& target, const WorkloadOptions& workload,
                                    const LoadOptions& load, const RunDescription& description,
                                    const RunResult& run, const Recorder& recorder);

// {"letter", "good_fraction", "error_fraction", "rule"} from a report's measurements.
nlohmann::ordered_json GradeOf(const nlohmann::ordered_json& report);

// {"compare": true, "runs": [a, b], "ratios": {...}}: each ratio is b / a (null when a is 0).
nlohmann::ordered_json CompareObject(const nlohmann::ordered_json& a,
                                     const nlohmann::ordered_json& b);

// A human-readable table of one report or of a comparison.
std::string SummaryText(const nlohmann::ordered_json& report);

}  // namespace dte::bench
