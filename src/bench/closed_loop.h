#pragma once
// RunClosedLoop: the closed-loop load generator. Simulated users each send a request, read
// the whole (streamed) response, think for the scenario's think time, and repeat. How many
// users are active follows the scenario's stages: user i runs while the stage value at that
// moment exceeds i (so a ramp from 0 to N starts users evenly, a ramp down stops them in
// reverse order). The run ends at the scenario's end, at max_duration_s, or after
// max_requests requests (every run is bounded in both); requests in flight at the deadline
// are read to the end (each is bounded by timeout_s). With `session_turns` > 0 a user's unit
// of work is a `dte serve` session: create it, hold that many chat turns, delete it.
//
// Runs on its own io_context (`threads` threads), blocks until the run is over and records
// every request into the Recorder. SIGINT/SIGTERM end the run early, with a report.

#include "base/status.h"
#include "bench/load_context.h"
#include "bench/recorder.h"
#include "bench/target.h"
#include "bench/workload.h"

namespace dte::bench {

Result<RunResult> RunClosedLoop(const Target& target, const WorkloadOptions& workload,
                                const LoadOptions& load, Recorder& recorder);

}  // namespace dte::bench
