#pragma once
// A bounded in-memory store of recent finished spans, grouped by trace, for
// GET /v1/traces (recent traces, filtered by duration and status) and GET /v1/traces/{id}.
// When the span count or byte budget is exceeded, whole traces are evicted oldest first
// (by the time their first span arrived).
//
// Threading: all methods are thread-safe (one mutex; OnEnd does O(1) work plus evictions).

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "telemetry/tracer.h"

namespace dte {

struct TraceStoreOptions {
  size_t max_spans = 10000;
  size_t max_bytes = 16u << 20;
};

// One trace as listed by GET /v1/traces.
struct TraceSummary {
  TraceId trace_id;
  std::string root_name;  // the span without a local parent, else the earliest span
  std::string service;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  size_t span_count = 0;
  SpanStatusCode status = SpanStatusCode::kUnset;  // error if any span failed, else ok if any ok
  double DurationMs() const { return static_cast<double>(end_unix_nano - start_unix_nano) / 1e6; }
};

struct TraceQuery {
  size_t limit = 20;                     // at most this many, newest first (max 1000)
  double min_duration_ms = 0;            // only traces at least this long
  std::optional<SpanStatusCode> status;  // only traces with this overall status
  std::string name;                      // only traces whose root span has this name (empty: any)
};

// Parses "limit=20&min_duration_ms=100&status=error&name=router.proxy" (all optional).
Result<TraceQuery> ParseTraceQuery(std::string_view query_string);

class TraceStore : public SpanSink {
 public:
  explicit TraceStore(TraceStoreOptions options = {}, std::string service_name = "dte");

  void OnEnd(std::shared_ptr<const SpanData> span) override;

  std::vector<TraceSummary> Recent(const TraceQuery& query) const;
  // The spans of one trace ordered by start time; empty when unknown (or evicted).
  std::vector<std::shared_ptr<const SpanData>> Get(const TraceId& id) const;

  size_t span_count() const;
  size_t byte_count() const;
  size_t trace_count() const;
  uint64_t evicted_traces() const;

 private:
  struct Entry {
    std::vector<std::shared_ptr<const SpanData>> spans;
    size_t bytes = 0;
    uint64_t sequence = 0;  // arrival order of the first span
  };
  struct IdHash {
    size_t operator()(const TraceId& id) const { return static_cast<size_t>(id.LowBits()); }
  };
  TraceSummary Summarize(const Entry& entry) const;
  void EvictLocked();

  const TraceStoreOptions options_;
  const std::string service_name_;
  mutable std::mutex mu_;
  std::unordered_map<TraceId, Entry, IdHash> traces_;  // guarded by mu_
  std::map<uint64_t, TraceId> order_;                  // sequence -> trace, guarded by mu_
  uint64_t next_sequence_ = 0;
  size_t spans_ = 0, bytes_ = 0;
  uint64_t evicted_ = 0;
};

// JSON bodies of the two endpoints.
//   GET /v1/traces  -> {"traces":[{"trace_id","name","service","start_unix_nano","duration_ms",
//                        "span_count","status"}], "stored_traces": n, "stored_spans": n}
//   GET /v1/traces/{id} -> {"trace_id", "spans":[{"trace_id","span_id","parent_span_id","name",
//                        "kind","start_unix_nano","end_unix_nano","duration_ms","attributes":{},
//                        "events":[],"status":{"code","message"}}]}
nlohmann::json TraceSummaryJson(const TraceSummary& summary);
nlohmann::json SpanJson(const SpanData& span);
std::string RenderTraceList(const TraceStore& store, const TraceQuery& query);
// NotFound for an unknown id, InvalidArgument for a malformed one.
Result<std::string> RenderTrace(const TraceStore& store, std::string_view trace_id_hex);

}  // namespace dte
