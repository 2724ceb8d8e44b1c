#pragma once
// RunOpenLoop: the open-loop load generator. Requests arrive on a schedule that does not
// depend on how fast earlier ones were answered: an arrival process under a scenario's rate
// stages (constant, Poisson or gamma gaps), or the timestamps of a replayed trace. One
// scheduler coroutine sleeps until each arrival's time and starts its request as its own
// coroutine, so thousands of requests can be in flight on one io thread. Latency is timed
// from the arrival's scheduled time (no coordinated omission): if the client or the server
// falls behind, the delay shows. At most max_in_flight requests run at once; later arrivals
// wait for a slot, and that wait counts in their latency too.
//
// Bounded like the closed loop: the schedule's end, max_duration_s and max_requests.
// Blocks until the run is over; SIGINT/SIGTERM end it early with a report.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "bench/load_context.h"

namespace dte::bench {

// One scheduled request.
struct PlannedRequest {
  double at_s = 0;                 // seconds from the start
  std::string prompt;              // ignored by raw workloads
  std::optional<int> max_tokens;   // default: the workload's
};

// Where the arrivals come from. Called from the scheduler coroutine only.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  virtual std::optional<PlannedRequest> Next() = 0;  // in order of at_s; nullopt at the end
  virtual double DurationS() const = 0;              // the planned length of the run
};

// Arrivals from an open-loop scenario (its rate stages and arrival process), with prompts
// from the workload.
std::unique_ptr<RequestSource> ScenarioSource(const Scenario& scenario,
                                              const WorkloadOptions& workload);

Result<RunResult> RunOpenLoop(const Target& target, const WorkloadOptions& workload,
                              const LoadOptions& load, RequestSource& source, Recorder& recorder);

}  // namespace dte::bench
