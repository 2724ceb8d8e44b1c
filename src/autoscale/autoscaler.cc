#include "autoscale/autoscaler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/clock.h"

namespace dte::autoscale {
namespace {

std::string Fmt(const char* format, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c, d);
  return buf;
}

// Sums bucket deltas of several workers; nullopt when their bounds differ.
std::optional<std::vector<Bucket>> MergeBuckets(const std::vector<WorkerLoad>& loads) {
  std::vector<Bucket> merged;
  for (const WorkerLoad& l : loads) {
    if (l.ttft_delta.empty()) continue;
    if (merged.empty()) {
      merged = l.ttft_delta;
      continue;
    }
    if (merged.size() != l.ttft_delta.size()) return std::nullopt;
    for (size_t i = 0; i < merged.size(); ++i) {
      if (merged[i].upper_bound != l.ttft_delta[i].upper_bound) return std::nullopt;
      merged[i].count += l.ttft_delta[i].count;
    }
  }
  return merged;
}

}  // namespace

nlohmann::json InputsJson(const DecisionInputs& in) {
  nlohmann::json j = {{"ready_workers", in.ready_workers},
                      {"concurrency_util", in.concurrency_util},
                      {"queue_util", in.queue_util},
                      {"ttft_util", in.ttft_util},
                      {"cpu_util", in.cpu_util},
                      {"load", in.load},
                      {"dominant_metric", in.dominant_metric},
                      {"request_rate", in.request_rate},
                      {"error_rate", in.error_rate},
                      {"forecast_rate", in.forecast_rate},
                      {"demand", in.demand},
                      {"growth", in.growth},
                      {"reactive_desired", in.reactive_desired},
                      {"predictive_desired", in.predictive_desired},
                      {"proposal", in.proposal}};
  j["ttft_p95_s"] = in.ttft_p95_s ? nlohmann::json(*in.ttft_p95_s) : nlohmann::json(nullptr);
  return j;
}

std::string_view PolicyName(PolicyKind kind) {
  return kind == PolicyKind::kPredictive ? "predictive" : "hpa";
}

Result<PolicyKind> ParsePolicy(std::string_view name) {
  if (name == "hpa") return PolicyKind::kHpa;
  if (name == "predictive") return PolicyKind::kPredictive;
  return Status::InvalidArgument("unknown scaling policy '" + std::string(name) +
                                 "' (expected hpa or predictive)");
}

Status ValidateConfig(const AutoscalerConfig& c) {
  if (c.min_replicas < 0 || c.max_replicas < 1 || c.min_replicas > c.max_replicas)
    return Status::InvalidArgument("need 0 <= min_replicas <= max_replicas, max_replicas >= 1");
  if (!(c.target_utilization > 0)) return Status::InvalidArgument("target_utilization must be > 0");
  if (!(c.scale_down_threshold >= 0 && c.scale_down_threshold <= c.target_utilization &&
        c.target_utilization <= c.scale_up_threshold))
    return Status::InvalidArgument(
        "need scale_down_threshold <= target_utilization <= scale_up_threshold");
  if (c.tolerance < 0 || c.scale_up_window_s < 0 || c.scale_down_window_s < 0 ||
      c.scale_up_cooldown_s < 0 || c.scale_down_cooldown_s < 0 || c.lead_s < 0 ||
      c.max_step_up < 0 || c.max_step_down < 0 || !(c.demand_smoothing_s > 0) ||
      c.forecast_warmup_s < 0 || c.max_growth < 1)
    return Status::InvalidArgument("windows, cooldowns, steps and lead must be >= 0");
  if (c.max_batch <= 0 && c.queue_capacity <= 0 && c.ttft_slo_s <= 0 && c.cpu_cores_per_worker <= 0)
    return Status::InvalidArgument("no load metric enabled (all capacities are 0)");
  return Status::Ok();
}

Autoscaler::Autoscaler(AutoscalerConfig config, EventLog* events)
    : config_(std::move(config)), events_(events), forecaster_(config_.forecast) {}

DecisionInputs Autoscaler::Measure(double now_s, const std::vector<WorkerLoad>& loads,
                                   int current) {
  DecisionInputs in;
  in.ready_workers = static_cast<int>(loads.size());
  if (loads.empty()) return in;
  // Replicas still starting count as idle in the averages (HPA's conservative rule), so a
  // scale-up already under way is not ordered twice.
  const double n = std::max<double>(current, in.ready_workers);
  double active_plus_queue = 0, queued = 0, cpu = 0;
  for (const WorkerLoad& l : loads) {
    active_plus_queue += l.active_sequences + l.queue_depth;
    queued += l.queue_depth;
    cpu += l.cpu_cores;
    in.request_rate += l.request_rate;
    in.error_rate += l.error_rate;
  }
  if (config_.max_batch > 0) in.concurrency_util = active_plus_queue / config_.max_batch / n;
  if (config_.queue_capacity > 0) in.queue_util = queued / config_.queue_capacity / n;
  if (config_.cpu_cores_per_worker > 0) in.cpu_util = cpu / config_.cpu_cores_per_worker / n;
  std::optional<std::vector<Bucket>> merged = MergeBuckets(loads);
  if (merged) {
    in.ttft_p95_s = BucketQuantile(0.95, *merged, {});
  } else {  // bounds differ between workers: the worst worker's p95
    for (const WorkerLoad& l : loads)
      if (l.ttft_p95) in.ttft_p95_s = std::max(in.ttft_p95_s.value_or(0), *l.ttft_p95);
  }
  // TTFT is not additive over replicas: it votes only when every replica is ready, and only
  // while requests wait (queue > 0). Without a queue a slow TTFT comes from long prompts
  // (prefill), which more replicas would not shorten.
  if (in.ttft_p95_s && config_.ttft_slo_s > 0 && current <= in.ready_workers && queued > 0)
    in.ttft_util = *in.ttft_p95_s / config_.ttft_slo_s;
  const std::pair<double, const char*> metrics[] = {{in.concurrency_util, "concurrency"},
                                                    {in.queue_util, "queue"},
                                                    {in.ttft_util, "ttft"},
                                                    {in.cpu_util, "cpu"}};
  for (const auto& [u, name] : metrics) {
    if (u > in.load || in.dominant_metric.empty()) {
      in.load = u;
      in.dominant_metric = name;
    }
  }
  // The demand in replicas' worth of work (busy slots / max_batch), smoothed over
  // demand_smoothing_s; one scrape's gauges are too noisy to plan on.
  const double busy = in.concurrency_util * n;
  const double dt = last_measure_s_ ? now_s - *last_measure_s_ : 0;
  const double w = have_demand_ ? 1 - std::exp(-std::max(dt, 0.0) / config_.demand_smoothing_s) : 1;
  demand_avg_ += w * (busy - demand_avg_);
  have_demand_ = true;
  last_measure_s_ = now_s;
  if (config_.policy == PolicyKind::kPredictive) {
    if (!first_forecast_s_) first_forecast_s_ = now_s;
    forecaster_.Observe(now_s, in.request_rate);
    in.forecast_rate = forecaster_.Forecast(config_.lead_s);
  }
  return in;
}

Decision Autoscaler::Decide(double now_s, const std::vector<WorkerLoad>& loads, int current) {
  const SteadyClock::time_point start = SteadyClock::now();
  Decision d;
  d.current = current;
  d.inputs = Measure(now_s, loads, current);
  DecisionInputs& in = d.inputs;
  const AutoscalerConfig& c = config_;
  const double n = std::max(current, in.ready_workers);
  const double ratio = in.load / c.target_utilization;
  std::string why;
  in.reactive_desired = current;
  if (in.ready_workers == 0) {
    why = "no ready worker reported metrics: hold";
  } else if ((in.load > c.scale_up_threshold || in.load < c.scale_down_threshold) &&
             std::abs(ratio - 1) > c.tolerance) {
    in.reactive_desired = static_cast<int>(std::ceil(n * ratio - 1e-9));
    const bool up = in.load > c.scale_up_threshold;
    why = Fmt("load %.2f (", in.load) + in.dominant_metric + ") " +
          Fmt(up ? "> %.2f" : "< %.2f", up ? c.scale_up_threshold : c.scale_down_threshold) +
          Fmt(": ceil(%.0f * %.2f / %.2f)", n, in.load, c.target_utilization);
  } else {
    why = Fmt("load %.2f (", in.load) + in.dominant_metric + ") within thresholds";
  }
  in.proposal = in.reactive_desired;
  if (c.policy == PolicyKind::kPredictive && in.ready_workers > 0 && forecaster_.level() > 0 &&
      have_demand_) {
    // Demand now (busy replicas' worth, smoothed) grown by the forecast rise of the request
    // rate `lead_s` ahead; the reactive proposal still wins when it asks for more (an
    // overload the forecast missed).
    // Until the forecaster has seen a warm-up, its trend is mostly the fleet filling up
    // (completions lag arrivals at start): no growth is believed yet.
    const bool warm = now_s - *first_forecast_s_ >= c.forecast_warmup_s;
    in.growth = warm ? std::clamp(in.forecast_rate / forecaster_.level(), 1.0, c.max_growth) : 1.0;
    in.demand = demand_avg_;
    const double planned = in.demand * in.growth / c.target_utilization;  // replicas
    in.predictive_desired = static_cast<int>(std::ceil(planned - 1e-9));
    const bool overload = in.reactive_desired > current;
    // HPA's tolerance applies to the plan too: no change for a plan within 10 % of `current`.
    if (!overload && std::abs(planned / n - 1) <= c.tolerance) {
      in.proposal = current;
      why = Fmt("plan %.2f replicas within tolerance of %.0f", planned, n);
    } else if (!overload || in.predictive_desired > in.reactive_desired) {
      in.proposal = in.predictive_desired;
      why = Fmt("plan ceil(demand %.2f * growth %.2f / %.2f)", in.demand, in.growth,
                c.target_utilization) +
            Fmt(" (rate %.2f req/s, forecast in %.0f s %.2f)", forecaster_.level(), c.lead_s,
                in.forecast_rate);
      if (overload) why += "; above the reactive " + std::to_string(in.reactive_desired);
    } else {
      why += "; reactive above the plan of " + std::to_string(in.predictive_desired);
    }
  }
  in.proposal = std::clamp(in.proposal, c.min_replicas, c.max_replicas);
  d.desired = Stabilize(now_s, current, in.proposal, &why);
  d.reason = why;
  d.decision_us = SecondsSince(start) * 1e6;
  if (d.changed()) Record(now_s, d);
  return d;
}

int Autoscaler::Stabilize(double now_s, int current, int proposal, std::string* why) {
  const AutoscalerConfig& c = config_;
  // The first decision seeds the windows with the running count, so a fleet that has just
  // started (and shows little load yet) is not scaled in before a full down window.
  if (!started_) {
    started_ = true;
    history_.push_back({now_s, current, /*seed=*/true});
  }
  history_.push_back({now_s, proposal, false});
  const double keep = std::max(c.scale_up_window_s, c.scale_down_window_s);
  while (!history_.empty() && history_.front().time_s < now_s - keep) history_.pop_front();
  // Out of range (a config change, a manual edit): move into range regardless of the rules.
  if (current < c.min_replicas || current > c.max_replicas) {
    *why += "; clamped to [min, max]";
    return std::clamp(current, c.min_replicas, c.max_replicas);
  }
  if (proposal > current) {
    int lowest = proposal;
    for (const Proposal& p : history_)
      if (!p.seed && p.time_s > now_s - c.scale_up_window_s) lowest = std::min(lowest, p.replicas);
    if (lowest <= current) {
      *why += Fmt("; hold: scale-up stabilization (lowest proposal in %.0f s is %.0f)",
                  c.scale_up_window_s, lowest);
      return current;
    }
    if (last_up_s_ && now_s - *last_up_s_ < c.scale_up_cooldown_s) {
      *why += Fmt("; hold: scale-up cooldown (%.0f s of %.0f s)", now_s - *last_up_s_,
                  c.scale_up_cooldown_s);
      return current;
    }
    int desired = lowest;
    if (c.max_step_up > 0 && desired > current + c.max_step_up) {
      desired = current + c.max_step_up;
      *why += Fmt("; step limited to +%.0f", c.max_step_up);
    }
    return desired;
  }
  if (proposal < current) {
    int highest = proposal;
    for (const Proposal& p : history_)
      if (p.time_s > now_s - c.scale_down_window_s) highest = std::max(highest, p.replicas);
    if (highest >= current) {
      *why += Fmt("; hold: scale-down stabilization (highest proposal in %.0f s is %.0f)",
                  c.scale_down_window_s, highest);
      return current;
    }
    if (last_change_s_ && now_s - *last_change_s_ < c.scale_down_cooldown_s) {
      *why += Fmt("; hold: scale-down cooldown (%.0f s of %.0f s)", now_s - *last_change_s_,
                  c.scale_down_cooldown_s);
      return current;
    }
    int desired = highest;
    if (c.max_step_down > 0 && desired < current - c.max_step_down) {
      desired = current - c.max_step_down;
      *why += Fmt("; step limited to -%.0f", c.max_step_down);
    }
    return desired;
  }
  return current;
}

void Autoscaler::Record(double now_s, const Decision& d) {
  last_change_s_ = now_s;
  if (d.desired > d.current) last_up_s_ = now_s;
  if (events_ == nullptr) return;
  ScalingEvent e;
  e.time_s = now_s;
  e.from = d.current;
  e.to = d.desired;
  e.kind = d.desired > d.current ? "scale_up" : "scale_down";
  e.reason = d.reason;
  e.inputs = InputsJson(d.inputs);
  e.decision_us = d.decision_us;
  events_->Append(std::move(e));
}

int Autoscaler::Override(double now_s, int current, int replicas, const std::string& who) {
  const int to = std::clamp(replicas, config_.min_replicas, config_.max_replicas);
  last_change_s_ = now_s;
  if (to > current) last_up_s_ = now_s;
  history_.clear();
  history_.push_back({now_s, to, true});
  if (events_ != nullptr) {
    ScalingEvent e;
    e.time_s = now_s;
    e.from = current;
    e.to = to;
    e.kind = "override";
    e.reason = "set to " + std::to_string(replicas) + " by " + who +
               (to != replicas ? " (clamped to [min, max])" : "");
    events_->Append(std::move(e));
  }
  return to;
}

}  // namespace dte::autoscale
