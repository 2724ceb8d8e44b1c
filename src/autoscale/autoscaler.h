#pragma once
// Autoscaler: the pure scaling policy. Given the time, the recent load of each ready worker
// and the current replica count, Decide() returns the replica count to run and why. It does
// no I/O and its decisions depend on no clock but `now_s` (the steady clock only times
// Decide() itself, for Decision::decision_us), so the same object drives the live control loop
// (Controller) and the simulator.
//
// Reactive part (the Kubernetes HPA algorithm on a multi-metric load score):
//   per metric m: utilisation u_m = observed_m / capacity_m, averaged over all replicas (those
//   still starting count as idle, HPA's conservative rule, so a scale-up under way is not
//   ordered twice)
//     concurrency = (active_sequences + queue_depth) / max_batch
//     queue       = queue_depth / queue_capacity
//     ttft        = fleet TTFT p95 / ttft_slo_s (only while requests queue and no replica is
//                   starting: without a queue, TTFT is prefill time, which replicas don't cut)
//     cpu         = cpu cores used / cpu_cores_per_worker
//   load = max_m u_m (HPA takes the largest proposal of several metrics)
//   scale up when load > scale_up_threshold (0.8), down when load < scale_down_threshold (0.3),
//   otherwise hold; when moving: desired = ceil(current * load / target_utilization), skipped
//   when |load / target - 1| <= tolerance (HPA's 10 %).
// Predictive part (policy kPredictive): a RateForecaster (Holt / Holt-Winters) follows the
//   fleet's request rate; the plan is the demand now (busy replicas' worth: sum of
//   (active + queued) / max_batch, smoothed over demand_smoothing_s) times the forecast growth
//   of the rate `lead_s` ahead (forecast / level, clamped to [1, max_growth]):
//     plan = ceil(demand * growth / target_utilization)
//   It replaces the reactive proposal (so the fleet tracks the demand at the target instead of
//   drifting inside the 30-80 % band, and starts capacity before a forecast rise) unless the
//   reactive proposal asks for more (an overload the forecast missed); HPA's tolerance applies.
//   Demand, not rate / per-replica req/s, is what gets sized: the req/s one replica serves
//   swings with the prompt and answer lengths of the moment, busy slots already include them.
// Then HPA's behaviour: stabilization windows (a scale-up uses the lowest proposal of the last
//   up window, a scale-down the highest of the last down window), cooldowns after a change,
//   a per-decision step limit, and [min_replicas, max_replicas].
// Every change (and every Override) is appended to the EventLog given at construction.
// Not thread-safe: one owner calls Decide(); EventLog is thread-safe for readers.

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "autoscale/event_log.h"
#include "autoscale/forecaster.h"
#include "autoscale/worker_sample.h"

namespace dte::autoscale {

enum class PolicyKind { kHpa, kPredictive };
std::string_view PolicyName(PolicyKind kind);
Result<PolicyKind> ParsePolicy(std::string_view name);  // "hpa" | "predictive"

struct AutoscalerConfig {
  PolicyKind policy = PolicyKind::kHpa;
  int min_replicas = 1;
  int max_replicas = 8;
  // Capacity of one worker, for the utilisations (a metric whose capacity is <= 0 is unused).
  double max_batch = 8;             // concurrent sequences one worker runs at full speed
  double queue_capacity = 4;        // waiting requests per worker that count as "full"
  double ttft_slo_s = 2.0;          // TTFT p95 objective
  double cpu_cores_per_worker = 0;  // 0: CPU not used (threads vary by deployment)
  double target_utilization = 0.6;
  double scale_up_threshold = 0.8;
  double scale_down_threshold = 0.3;
  double tolerance = 0.1;
  double scale_up_window_s = 0;  // stabilization
  double scale_down_window_s = 300;
  double scale_up_cooldown_s = 15;    // after any scale-up, before the next one
  double scale_down_cooldown_s = 60;  // after any change, before a scale-down
  int max_step_up = 4;                // most replicas added by one decision (0: unlimited)
  int max_step_down = 0;              // most removed by one decision (0: unlimited)
  // Predictive term.
  double lead_s = 60;              // forecast this far ahead (startup delay + one period)
  double demand_smoothing_s = 30;  // time constant of the demand average
  double max_growth = 3;           // largest forecast/level ratio believed
  double forecast_warmup_s = 120;  // growth is 1 until the forecaster has seen this long
  ForecastOptions forecast;
};

// Checks ranges (min <= max, thresholds ordered, ...).
Status ValidateConfig(const AutoscalerConfig& config);

// What a decision was based on (kept in its event).
struct DecisionInputs {
  int ready_workers = 0;
  double concurrency_util = 0;
  double queue_util = 0;
  std::optional<double> ttft_p95_s;
  double ttft_util = 0;
  double cpu_util = 0;
  double load = 0;              // max of the utilisations
  std::string dominant_metric;  // which one was the max
  double request_rate = 0;      // fleet requests/s
  double error_rate = 0;
  double forecast_rate = 0;    // predictive only
  double demand = 0;           // predictive: smoothed busy replicas' worth
  double growth = 0;           // predictive: forecast / level of the rate
  int reactive_desired = 0;    // HPA proposal before behaviour rules
  int predictive_desired = 0;  // 0 when unused
  int proposal = 0;            // max of the two, clamped
};

struct Decision {
  int current = 0;
  int desired = 0;
  std::string reason;
  DecisionInputs inputs;
  double decision_us = 0;  // how long Decide() took
  bool changed() const { return desired != current; }
};

nlohmann::json InputsJson(const DecisionInputs& inputs);

class Autoscaler {
 public:
  Autoscaler(AutoscalerConfig config, EventLog* events = nullptr);

  // `loads`: one per ready worker (workers still starting or draining are left out by the
  // caller). `current`: replicas the actuator runs now (ready or not).
  Decision Decide(double now_s, const std::vector<WorkerLoad>& loads, int current);

  // Records an admin override (POST /v1/scaling/replicas) as an event and restarts the
  // cooldowns from `now_s`; returns the clamped count to apply.
  int Override(double now_s, int current, int replicas, const std::string& who);

  const AutoscalerConfig& config() const { return config_; }
  const RateForecaster& forecaster() const { return forecaster_; }

 private:
  DecisionInputs Measure(double now_s, const std::vector<WorkerLoad>& loads, int current);
  int Stabilize(double now_s, int current, int proposal, std::string* why);
  void Record(double now_s, const Decision& d);

  AutoscalerConfig config_;
  EventLog* events_;
  RateForecaster forecaster_;
  double demand_avg_ = 0;
  bool have_demand_ = false;
  std::optional<double> last_measure_s_, first_forecast_s_;
  struct Proposal {
    double time_s;
    int replicas;
    bool seed;  // the running count at start or an override: holds scale-down only
  };
  std::deque<Proposal> history_;  // proposals within the longest window
  std::optional<double> last_up_s_, last_change_s_;
  bool started_ = false;
};

}  // namespace dte::autoscale
