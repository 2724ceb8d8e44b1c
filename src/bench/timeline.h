#pragma once
// Timeline: the measurements of a run cut into equal intervals by completion time, for the
// "over time" charts of the reports: requests, errors and output tokens per interval, and
// TTFT / end-to-end latency histograms per interval (so each interval has its own p50/p99).
// The interval is chosen from the planned length (about 100 intervals, at least 0.1 s);
// completions after the planned end (requests in flight at the deadline) extend it.
// Not synchronized: the Recorder guards it.

#include <cstdint>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "bench/histogram.h"

namespace dte::bench {

class Timeline {
 public:
  void Start(SteadyClock::time_point start, double planned_s);
  bool started() const { return started_; }
  void Add(SteadyClock::time_point done, bool error, int64_t output_tokens,
           std::optional<uint64_t> ttft_ns, uint64_t e2e_ns);
  // {"interval_s", "t_s", "requests", "errors", "requests_per_s", "output_tokens_per_s",
  //  "ttft_p50_ms", "ttft_p99_ms", "e2e_p50_ms", "e2e_p99_ms"} as JSON text.
  std::string Json() const;
  double interval_s() const { return interval_s_; }

 private:
  struct Bucket {
    uint64_t requests = 0, errors = 0;
    int64_t output_tokens = 0;
    LatencyHistogram ttft_ns, e2e_ns;
  };
  bool started_ = false;
  SteadyClock::time_point start_{};
  double interval_s_ = 1;
  std::vector<Bucket> buckets_;
};

}  // namespace dte::bench
