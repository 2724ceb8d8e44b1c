#include "autoscale/simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>

namespace dte::autoscale {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The bounds `dte serve` uses for its TTFT histogram: 1 ms * 2^k, k = 0..16, then +Inf.
std::vector<double> TtftBounds() {
  std::vector<double> b;
  for (int k = 0; k < 17; ++k) b.push_back(0.001 * std::ldexp(1.0, k));
  b.push_back(kInf);
  return b;
}

struct Replica {
  double ordered_at = 0;
  double ready_at = 0;
  double left_at = kInf;
  int active = 0;
  bool draining = false;
  bool gone = false;
  double completions = 0;           // in the current control period
  std::vector<double> ttft_counts;  // per bucket, in the current control period

  bool Serving(double now) const { return !gone && !draining && now >= ready_at; }
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

double MeanServiceS(const std::vector<TraceRequest>& trace, const CapacityModel& m) {
  double sum = 0;
  for (const TraceRequest& r : trace)
    sum += r.prompt_tokens / m.prefill_tok_s + r.gen_tokens / m.decode_tok_s;
  return trace.empty() ? 0 : sum / static_cast<double>(trace.size());
}

class Fleet {
 public:
  Fleet(const std::vector<TraceRequest>& trace, const SimOptions& o, EventLog* events)
      : trace_(trace), o_(o), bounds_(TtftBounds()), autoscaler_(o.autoscaler, events) {}

  SimResult Run();

 private:
  void AddReplica(double now, double ready_at) {
    Replica r;
    r.ordered_at = now;
    r.ready_at = ready_at;
    r.ttft_counts.assign(bounds_.size(), 0);
    replicas_.push_back(std::move(r));
  }
  int Current() const {
    int n = 0;
    for (const Replica& r : replicas_) n += !r.gone && !r.draining;
    return n;
  }
  // Replicas for the first minute's rate at the target utilisation (both policies start from
  // the same fleet, sized as an operator would size it).
  int WarmStart() const {
    double first_minute = 0;
    for (const TraceRequest& r : trace_) first_minute += r.arrival_s / o_.time_scale < 60;
    const double span = std::min(60.0, trace_.back().arrival_s / o_.time_scale);
    const double rate = span > 0 ? first_minute / span : 0;
    const double per_replica =
        ReplicaCapacityRps(trace_, o_.capacity) * o_.autoscaler.target_utilization;
    const int n = per_replica > 0 ? static_cast<int>(std::ceil(rate / per_replica)) : 1;
    return std::clamp(n, std::max(1, o_.autoscaler.min_replicas), o_.autoscaler.max_replicas);
  }
  void Dispatch(double now);
  void Tick(double now);
  void Apply(double now, int desired);

  using Completion = std::pair<double, size_t>;  // (time, replica)
  const std::vector<TraceRequest>& trace_;
  const SimOptions& o_;
  const std::vector<double> bounds_;
  Autoscaler autoscaler_;
  std::vector<Replica> replicas_;
  std::deque<size_t> waiting_;
  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> running_;
  std::vector<double> latencies_;
  SimResult result_;
  double decision_us_sum_ = 0;
  int64_t decisions_ = 0;
};

void Fleet::Dispatch(double now) {
  const CapacityModel& m = o_.capacity;
  while (!waiting_.empty()) {
    Replica* best = nullptr;
    size_t best_index = 0;
    for (size_t i = 0; i < replicas_.size(); ++i) {
      Replica& r = replicas_[i];
      if (r.Serving(now) && r.active < m.slots && (best == nullptr || r.active < best->active)) {
        best = &r;
        best_index = i;
      }
    }
    if (best == nullptr) return;
    const TraceRequest& req = trace_[waiting_.front()];
    waiting_.pop_front();
    const double arrival = req.arrival_s / o_.time_scale;
    const double prefill = req.prompt_tokens / m.prefill_tok_s;
    const double latency = (now - arrival) + prefill;
    latencies_.push_back(latency);
    const size_t bucket = static_cast<size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), latency) - bounds_.begin());
    best->ttft_counts[std::min(bucket, bounds_.size() - 1)] += 1;
    best->active += 1;
    running_.push({now + prefill + req.gen_tokens / m.decode_tok_s, best_index});
  }
}

void Fleet::Tick(double now) {
  std::vector<WorkerLoad> loads;
  int serving = 0;
  for (const Replica& r : replicas_) serving += r.Serving(now);
  for (Replica& r : replicas_) {
    if (!r.Serving(now)) continue;
    WorkerLoad l;
    l.queue_depth = static_cast<double>(waiting_.size()) / serving;
    l.active_sequences = r.active;
    l.request_rate = r.completions / o_.control_period_s;
    double cumulative = 0;
    for (size_t b = 0; b < bounds_.size(); ++b) {
      cumulative += r.ttft_counts[b];
      l.ttft_delta.push_back({bounds_[b], cumulative});
    }
    l.ttft_count = cumulative;
    loads.push_back(std::move(l));
  }
  for (Replica& r : replicas_) {
    r.completions = 0;
    std::fill(r.ttft_counts.begin(), r.ttft_counts.end(), 0.0);
  }
  const Decision d = autoscaler_.Decide(now, loads, Current());
  decision_us_sum_ += d.decision_us;
  result_.decision_us_max = std::max(result_.decision_us_max, d.decision_us);
  ++decisions_;
  if (d.changed()) Apply(now, d.desired);
}

void Fleet::Apply(double now, int desired) {
  int current = Current();
  if (desired > current) ++result_.scale_ups;
  if (desired < current) ++result_.scale_downs;
  for (; current < desired; ++current) AddReplica(now, now + o_.capacity.startup_s);
  // Scale-in: cancel the newest starting replicas first, then drain the least busy.
  for (size_t i = replicas_.size(); current > desired && i-- > 0;) {
    Replica& r = replicas_[i];
    if (!r.gone && !r.draining && now < r.ready_at) {
      r.gone = true;
      r.left_at = now;
      --current;
    }
  }
  while (current > desired) {
    Replica* pick = nullptr;
    for (Replica& r : replicas_)
      if (r.Serving(now) && (pick == nullptr || r.active < pick->active)) pick = &r;
    if (pick == nullptr) break;
    pick->draining = true;
    if (pick->active == 0) {
      pick->gone = true;
      pick->left_at = now;
    }
    --current;
  }
  result_.peak_replicas = std::max(result_.peak_replicas, Current());
}

SimResult Fleet::Run() {
  const int initial = o_.initial_replicas > 0 ? o_.initial_replicas : WarmStart();
  for (int i = 0; i < initial; ++i) AddReplica(0, 0);
  result_.peak_replicas = initial;
  size_t next = 0;
  double next_tick = o_.control_period_s;
  double clock = 0;
  while (true) {
    const double t_arrival = next < trace_.size() ? trace_[next].arrival_s / o_.time_scale : kInf;
    const double t_done = running_.empty() ? kInf : running_.top().first;
    double t_ready = kInf;
    for (const Replica& r : replicas_)
      if (!r.gone && !r.draining && r.ready_at > clock) t_ready = std::min(t_ready, r.ready_at);
    const bool busy = next < trace_.size() || !running_.empty() || !waiting_.empty();
    if (!busy) break;
    const double now = std::min({t_arrival, t_done, t_ready, next_tick});
    clock = now;
    if (now == t_done) {
      const size_t i = running_.top().second;
      running_.pop();
      Replica& r = replicas_[i];
      r.active -= 1;
      r.completions += 1;
      if (r.draining && r.active == 0 && !r.gone) {
        r.gone = true;
        r.left_at = now;
      }
    } else if (now == t_arrival) {
      waiting_.push_back(next++);
    } else if (now == next_tick) {
      Tick(now);
      next_tick += o_.control_period_s;
    }  // else a replica became ready: Dispatch below uses it
    Dispatch(now);
  }
  const double end = trace_.back().arrival_s / o_.time_scale;
  result_.duration_s = end;
  for (const Replica& r : replicas_)
    result_.replica_seconds += std::max(0.0, std::min(r.left_at, end) - r.ordered_at);
  result_.mean_replicas = end > 0 ? result_.replica_seconds / end : initial;
  result_.requests = static_cast<int64_t>(latencies_.size());
  int64_t met = 0;
  for (double l : latencies_) met += l <= o_.slo_s;
  result_.slo_attainment = latencies_.empty() ? 1.0 : static_cast<double>(met) / latencies_.size();
  result_.ttft_p50_s = Percentile(latencies_, 0.50);
  result_.ttft_p95_s = Percentile(latencies_, 0.95);
  result_.ttft_p99_s = Percentile(latencies_, 0.99);
  result_.decision_us_mean = decisions_ > 0 ? decision_us_sum_ / decisions_ : 0;
  result_.policy = std::string(PolicyName(o_.autoscaler.policy));
  return result_;
}

}  // namespace

Status ApplyCalibration(const nlohmann::json& perf, CapacityModel* model) {
  if (!perf.is_object() || !perf.contains("prefill_tok_s") || !perf["prefill_tok_s"].is_number())
    return Status::InvalidArgument(
        "calibration: expected `dte perf --json` output with prefill_tok_s");
  model->prefill_tok_s = perf["prefill_tok_s"].get<double>();
  double decode = perf.value("decode_tok_s", 0.0);
  if (perf.contains("batch_decode") && perf["batch_decode"].is_array()) {
    int best_gap = std::numeric_limits<int>::max();
    for (const nlohmann::json& b : perf["batch_decode"]) {
      const int gap = std::abs(b.value("batch", 0) - model->slots);
      if (gap < best_gap && b.value("per_sequence_tok_s", 0.0) > 0) {
        best_gap = gap;
        decode = b["per_sequence_tok_s"].get<double>();
      }
    }
  }
  if (!(model->prefill_tok_s > 0) || !(decode > 0))
    return Status::InvalidArgument("calibration: prefill and decode speeds must be > 0");
  model->decode_tok_s = decode;
  return Status::Ok();
}

double ReplicaCapacityRps(const std::vector<TraceRequest>& trace, const CapacityModel& model) {
  const double s = MeanServiceS(trace, model);
  return s > 0 ? model.slots / s : 0;
}

void ScaleToCapacityRps(const std::vector<TraceRequest>& trace, double rps, CapacityModel* model) {
  if (trace.empty() || !(rps > 0)) return;
  // Keep the prefill speed (it sets the TTFT) and solve the decode speed for the target:
  // mean_prefill + mean_gen / decode = slots / rps. When the prefill alone is too slow for
  // that, scale both speeds.
  double prefill_s = 0, gen_tokens = 0;
  for (const TraceRequest& r : trace) {
    prefill_s += r.prompt_tokens / model->prefill_tok_s;
    gen_tokens += r.gen_tokens;
  }
  const double n = static_cast<double>(trace.size());
  const double budget = model->slots / rps - prefill_s / n;
  if (budget > 0.1 * model->slots / rps && gen_tokens > 0) {
    model->decode_tok_s = gen_tokens / n / budget;
    return;
  }
  const double now = ReplicaCapacityRps(trace, *model);
  model->prefill_tok_s *= rps / now;
  model->decode_tok_s *= rps / now;
}

Result<SimResult> Simulate(const std::vector<TraceRequest>& trace, const SimOptions& options) {
  if (trace.empty()) return Status::InvalidArgument("empty trace");
  DTE_RETURN_IF_ERROR(ValidateConfig(options.autoscaler));
  const CapacityModel& m = options.capacity;
  if (m.slots < 1 || !(m.prefill_tok_s > 0) || !(m.decode_tok_s > 0) || m.startup_s < 0)
    return Status::InvalidArgument("capacity model: slots >= 1, speeds > 0, startup >= 0");
  if (!(options.control_period_s > 0) || !(options.time_scale > 0) || !(options.slo_s > 0))
    return Status::InvalidArgument("control period, time scale and SLO must be > 0");
  EventLog events(options.keep_events);
  Fleet fleet(trace, options, &events);
  SimResult r = fleet.Run();
  r.events = events.Recent();
  return r;
}

nlohmann::json SimResult::ToJson() const {
  nlohmann::json ev = nlohmann::json::array();
  for (const ScalingEvent& e : events) ev.push_back(EventLog::ToJson(e));
  return {{"policy", policy},
          {"requests", requests},
          {"slo_attainment", slo_attainment},
          {"ttft_p50_s", ttft_p50_s},
          {"ttft_p95_s", ttft_p95_s},
          {"ttft_p99_s", ttft_p99_s},
          {"replica_seconds", replica_seconds},
          {"mean_replicas", mean_replicas},
          {"peak_replicas", peak_replicas},
          {"scale_ups", scale_ups},
          {"scale_downs", scale_downs},
          {"duration_s", duration_s},
          {"decision_us_mean", decision_us_mean},
          {"decision_us_max", decision_us_max},
          {"events", std::move(ev)}};
}

}  // namespace dte::autoscale
