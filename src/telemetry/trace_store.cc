#include "telemetry/trace_store.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace dte {
namespace {

std::string_view ParamValue(std::string_view query, std::string_view key, bool* found) {
  *found = false;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view part =
        query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == key) {
      *found = true;
      return eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return {};
}

}  // namespace

Result<TraceQuery> ParseTraceQuery(std::string_view q) {
  TraceQuery query;
  bool found = false;
  std::string_view v = ParamValue(q, "limit", &found);
  if (found) {
    size_t limit = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), limit);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || limit == 0 || limit > 1000)
      return Status::InvalidArgument("limit must be an integer in [1, 1000]");
    query.limit = limit;
  }
  v = ParamValue(q, "min_duration_ms", &found);
  if (found) {
    double d = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), d);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || d < 0)
      return Status::InvalidArgument("min_duration_ms must be a non-negative number");
    query.min_duration_ms = d;
  }
  v = ParamValue(q, "status", &found);
  if (found) {
    if (v == "error")
      query.status = SpanStatusCode::kError;
    else if (v == "ok")
      query.status = SpanStatusCode::kOk;
    else if (v == "unset")
      query.status = SpanStatusCode::kUnset;
    else
      return Status::InvalidArgument("status must be ok, error or unset");
  }
  v = ParamValue(q, "name", &found);
  if (found) query.name = std::string(v);
  return query;
}

TraceStore::TraceStore(TraceStoreOptions options, std::string service_name)
    : options_(options), service_name_(std::move(service_name)) {}

void TraceStore::OnEnd(std::shared_ptr<const SpanData> span) {
  size_t bytes = span->ApproxBytes();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = traces_.try_emplace(span->trace_id);
  if (inserted) {
    it->second.sequence = next_sequence_++;
    order_.emplace(it->second.sequence, span->trace_id);
  }
  it->second.spans.push_back(std::move(span));
  it->second.bytes += bytes;
  spans_ += 1;
  bytes_ += bytes;
  EvictLocked();
}

void TraceStore::EvictLocked() {
  // Never evict the trace that just grew if it is the only one (a single huge trace is kept).
  while ((spans_ > options_.max_spans || bytes_ > options_.max_bytes) && order_.size() > 1) {
    auto oldest = order_.begin();
    auto it = traces_.find(oldest->second);
    spans_ -= it->second.spans.size();
    bytes_ -= it->second.bytes;
    traces_.erase(it);
    order_.erase(oldest);
    ++evicted_;
  }
}

TraceSummary TraceStore::Summarize(const Entry& entry) const {
  TraceSummary s;
  s.service = service_name_;
  s.span_count = entry.spans.size();
  const SpanData* root = nullptr;
  for (const auto& sp : entry.spans) {
    s.trace_id = sp->trace_id;
    if (s.start_unix_nano == 0 || sp->start_unix_nano < s.start_unix_nano)
      s.start_unix_nano = sp->start_unix_nano;
    s.end_unix_nano = std::max(s.end_unix_nano, sp->end_unix_nano);
    if (sp->status == SpanStatusCode::kError)
      s.status = SpanStatusCode::kError;
    else if (sp->status == SpanStatusCode::kOk && s.status == SpanStatusCode::kUnset)
      s.status = SpanStatusCode::kOk;
    bool local_root = !sp->parent_span_id.IsValid() || sp->remote_parent;
    if (local_root && (!root || sp->start_unix_nano < root->start_unix_nano)) root = sp.get();
  }
  if (!root) {
    for (const auto& sp : entry.spans)
      if (!root || sp->start_unix_nano < root->start_unix_nano) root = sp.get();
  }
  if (root) s.root_name = root->name;
  return s;
}

std::vector<TraceSummary> TraceStore::Recent(const TraceQuery& query) const {
  std::vector<TraceSummary> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = order_.rbegin(); it != order_.rend() && out.size() < query.limit; ++it) {
    TraceSummary s = Summarize(traces_.at(it->second));
    if (s.DurationMs() < query.min_duration_ms) continue;
    if (query.status && s.status != *query.status) continue;
    if (!query.name.empty() && s.root_name != query.name) continue;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::shared_ptr<const SpanData>> TraceStore::Get(const TraceId& id) const {
  std::vector<std::shared_ptr<const SpanData>> spans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = traces_.find(id);
    if (it == traces_.end()) return spans;
    spans = it->second.spans;
  }
  std::stable_sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
    return a->start_unix_nano < b->start_unix_nano;
  });
  return spans;
}

size_t TraceStore::span_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return spans_;
}
size_t TraceStore::byte_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}
size_t TraceStore::trace_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return traces_.size();
}
uint64_t TraceStore::evicted_traces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evicted_;
}

nlohmann::json TraceSummaryJson(const TraceSummary& s) {
  return {{"trace_id", s.trace_id.Hex()},
          {"name", s.root_name},
          {"service", s.service},
          {"start_unix_nano", std::to_string(s.start_unix_nano)},
          {"duration_ms", s.DurationMs()},
          {"span_count", s.span_count},
          {"status", SpanStatusName(s.status)}};
}

namespace {
nlohmann::json AttributesObject(const std::vector<Attribute>& attributes) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& a : attributes) {
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, double>) {
            if (std::isfinite(v))
              j[a.key] = v;
            else
              j[a.key] = std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
          } else {
            j[a.key] = v;
          }
        },
        a.value);
  }
  return j;
}
}  // namespace

nlohmann::json SpanJson(const SpanData& s) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : s.events)
    events.push_back({{"name", e.name},
                      {"time_unix_nano", std::to_string(e.time_unix_nano)},
                      {"attributes", AttributesObject(e.attributes)}});
  return {{"trace_id", s.trace_id.Hex()},
          {"span_id", s.span_id.Hex()},
          {"parent_span_id", s.parent_span_id.IsValid() ? s.parent_span_id.Hex() : ""},
          {"name", s.name},
          {"kind", SpanKindName(s.kind)},
          {"start_unix_nano", std::to_string(s.start_unix_nano)},
          {"end_unix_nano", std::to_string(s.end_unix_nano)},
          {"duration_ms", s.DurationMs()},
          {"attributes", AttributesObject(s.attributes)},
          {"events", std::move(events)},
          {"status", {{"code", SpanStatusName(s.status)}, {"message", s.status_message}}}};
}

std::string RenderTraceList(const TraceStore& store, const TraceQuery& query) {
  nlohmann::json traces = nlohmann::json::array();
  for (const auto& s : store.Recent(query)) traces.push_back(TraceSummaryJson(s));
  nlohmann::json body = {{"traces", std::move(traces)},
                         {"stored_traces", store.trace_count()},
                         {"stored_spans", store.span_count()}};
  return body.dump();
}

Result<std::string> RenderTrace(const TraceStore& store, std::string_view trace_id_hex) {
  auto id = TraceId::FromHex(trace_id_hex);
  if (!id.ok()) return id.status();
  auto spans = store.Get(*id);
  if (spans.empty()) return Status::NotFound("no stored trace " + std::string(trace_id_hex));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : spans) list.push_back(SpanJson(*s));
  nlohmann::json body = {{"trace_id", id->Hex()}, {"spans", std::move(list)}};
  return body.dump();
}

}  // namespace dte
