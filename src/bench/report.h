#pragma once
// The JSON report of a run: what was run (target, workload, load) and what was measured
// (Recorder::MeasurementsJson), in one object. docs/benchmarking.md describes every field.

#include <string>

#include "bench/closed_loop.h"
#include "bench/recorder.h"
#include "bench/target.h"
#include "bench/workload.h"

namespace dte::bench {

std::string ReportJson(const Target& target, const WorkloadOptions& workload,
                       const LoadOptions& load, const RunResult& run, const Recorder& recorder);

}  // namespace dte::bench
