#pragma once
// RunClosedLoop: the closed-loop load generator. `users` simulated users each send a request,
// read the whole (streamed) response, think for `think_s`, and repeat, until `duration_s`
// has passed or `max_requests` requests were sent (whichever comes first: every run is
// bounded in both). Requests in flight at the deadline are read to the end (each is bounded
// by `timeout_s`). With `session_turns` > 0 a user's unit of work is a `dte serve` session:
// create it, hold that many chat turns with its session_id, delete it.
//
// Runs on its own io_context (`threads` threads), blocks until the run is over and records
// every request into the Recorder. SIGINT/SIGTERM end the run early, with a report.

#include <cstdint>
#include <string>

#include "base/status.h"
#include "bench/recorder.h"
#include "bench/target.h"
#include "bench/workload.h"

namespace dte::bench {

struct LoadOptions {
  int users = 1;
  double duration_s = 10;
  int64_t max_requests = 1'000'000;
  double think_s = 0;
  double ramp_up_s = 0;       // users start evenly spread over this time
  double timeout_s = 120;     // per request
  int threads = 1;            // client I/O threads
  bool progress = true;       // a live line on stderr
  std::string system_prompt;  // of each session
};

struct RunResult {
  std::string model;         // the model asked for (found via GET /models if not given)
  double duration_s = 0;     // first send → last response
  bool interrupted = false;  // ended by a signal
};

Result<RunResult> RunClosedLoop(const Target& target, const WorkloadOptions& workload,
                                const LoadOptions& load, Recorder& recorder);

}  // namespace dte::bench
