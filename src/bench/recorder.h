#pragma once
// Recorder: collects the outcome of every request of a run and turns it into the numbers of
// the report: counts, errors by kind, throughput, goodput under SLOs, and latency histograms
// (TTFT, TPOT, inter-chunk time, end-to-end; TTFT per session turn). Thread-safe: request
// coroutines on any thread call Add(); the progress printer calls Snapshot().

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "bench/histogram.h"
#include "bench/timeline.h"

namespace dte::bench {

// What one request did, as the client saw it.
struct RequestRecord {
  SteadyClock::time_point sent;   // when its first byte was handed to the client
  double e2e_s = 0;               // sent → last byte of the response
  std::optional<double> ttft_s;   // sent → first chunk with content (streams only)
  int64_t output_tokens = 0;      // usage.completion_tokens, else content chunks
  std::vector<uint64_t> gaps_ns;  // between successive content chunks
  std::string error;              // empty on success; else its kind ("http_429", "timeout", ...)
  std::string error_detail;       // the server's or the client's message, when there is one
  int turn = 0;                   // 1-based turn of a session; 0 outside sessions
  double lag_s = 0;               // actual send − intended send (open loop: falling behind)
};

// Service-level objectives: a request counts toward goodput when it succeeded and meets each
// one that is set (a response that was not streamed is judged on TTFT by its end-to-end time). Parsed from "ttft=500ms,tpot=50ms,e2e=2s" (units ns, us, ms, s; no unit: ms).
struct Slo {
  std::optional<double> ttft_s, tpot_s, e2e_s;
  bool empty() const { return !ttft_s && !tpot_s && !e2e_s; }
};
Result<Slo> ParseSlo(std::string_view text);

// (end − first token) / (tokens − 1); nullopt without a TTFT or with fewer than two tokens.
std::optional<double> TimePerOutputToken(const RequestRecord& r);

class Recorder {
 public:
  explicit Recorder(Slo slo = {}) : slo_(slo) {}

  void Add(const RequestRecord& r);
  // Starts the per-interval measurements ("timeline" in the report) of a run planned to last
  // `planned_s` from `start`.
  void StartTimeline(SteadyClock::time_point start, double planned_s);

  struct Progress {
    uint64_t completed = 0;  // successes and errors
    uint64_t errors = 0;
    int64_t output_tokens = 0;
    double ttft_p99_s = 0;
  };
  Progress Snapshot() const;

  // The measurements as a JSON object (pretty-printed text), for a run that lasted
  // `duration_s` from its first send to its last response.
  std::string MeasurementsJson(double duration_s) const;

 private:
  const Slo slo_;
  mutable std::mutex mu_;
  uint64_t completed_ = 0;  // all below guarded by mu_
  uint64_t errors_ = 0;
  uint64_t good_ = 0;
  int64_t output_tokens_ = 0;
  std::map<std::string, uint64_t> errors_by_kind_;
  std::map<std::string, std::string> error_examples_;  // the first detail of each kind
  LatencyHistogram ttft_ns_, tpot_ns_, gap_ns_, e2e_ns_, tokens_, lag_ns_;
  Timeline timeline_;
  std::map<int, LatencyHistogram> ttft_by_turn_ns_;
};

}  // namespace dte::bench
