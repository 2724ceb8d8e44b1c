// The scaling policy: HPA formula, thresholds, tolerance, stabilization windows, cooldowns,
// limits, the TTFT and starting-replica rules, overrides, events, and the predictive term
// scaling out before the reactive one on a rising load.

#include "autoscale/autoscaler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <optional>

namespace dte::autoscale {
namespace {

// A config where only the concurrency metric votes and the numbers are easy to check.
AutoscalerConfig Simple() {
  AutoscalerConfig c;
  c.min_replicas = 1;
  c.max_replicas = 20;
  c.max_batch = 10;
  c.queue_capacity = 0;
  c.ttft_slo_s = 0;
  c.cpu_cores_per_worker = 0;
  c.target_utilization = 0.6;
  c.scale_up_threshold = 0.8;
  c.scale_down_threshold = 0.3;
  c.tolerance = 0.1;
  c.scale_up_window_s = 0;
  c.scale_down_window_s = 0;
  c.scale_up_cooldown_s = 0;
  c.scale_down_cooldown_s = 0;
  c.max_step_up = 0;
  return c;
}

// `n` workers each running `active` of max_batch 10 sequences.
std::vector<WorkerLoad> Fleet(int n, double active, double queue = 0, double rate = 0) {
  std::vector<WorkerLoad> v(n);
  for (WorkerLoad& l : v) {
    l.active_sequences = active;
    l.queue_depth = queue;
    l.request_rate = rate;
  }
  return v;
}

TEST(AutoscalerTest, HpaFormulaAboveTheUpThreshold) {
  EventLog log;
  Autoscaler a(Simple(), &log);
  Decision d = a.Decide(0, Fleet(4, 9), 4);  // load 0.9 > 0.8
  EXPECT_EQ(d.desired, 6);                   // ceil(4 * 0.9 / 0.6)
  EXPECT_NEAR(d.inputs.load, 0.9, 1e-12);
  EXPECT_EQ(d.inputs.dominant_metric, "concurrency");
  EXPECT_NE(d.reason.find("ceil(4 * 0.90 / 0.60)"), std::string::npos) << d.reason;
  ASSERT_EQ(log.total(), 1u);
  ScalingEvent e = log.Recent().back();
  EXPECT_EQ(e.from, 4);
  EXPECT_EQ(e.to, 6);
  EXPECT_EQ(e.kind, "scale_up");
  EXPECT_EQ(e.reason, d.reason);
  EXPECT_NEAR(e.inputs["load"].get<double>(), 0.9, 1e-12);
}

TEST(AutoscalerTest, HoldsInsideTheThresholdBand) {
  EventLog log;
  Autoscaler a(Simple(), &log);
  for (double active : {3.1, 5.0, 7.0, 7.9}) {
    Decision d = a.Decide(0, Fleet(4, active), 4);
    EXPECT_EQ(d.desired, 4) << active;
    EXPECT_NE(d.reason.find("within thresholds"), std::string::npos);
  }
  EXPECT_EQ(log.total(), 0u);                         // no change, no event
  EXPECT_EQ(a.Decide(0, Fleet(4, 2), 4).desired, 2);  // 0.2 < 0.3: ceil(4 * 0.2 / 0.6)
}

TEST(AutoscalerTest, ToleranceSuppressesSmallRatios) {
  AutoscalerConfig c = Simple();
  c.scale_up_threshold = 0.6;  // thresholds at the target: only the tolerance gates
  c.scale_down_threshold = 0.6;
  Autoscaler a(c);
  EXPECT_EQ(a.Decide(0, Fleet(4, 6.5), 4).desired, 4);  // ratio 1.083 <= 1.1
  EXPECT_EQ(a.Decide(0, Fleet(4, 5.5), 4).desired, 4);  // ratio 0.917 >= 0.9
  EXPECT_EQ(a.Decide(0, Fleet(4, 7.0), 4).desired, 5);  // ratio 1.167: ceil(4.67)
}

TEST(AutoscalerTest, ScaleDownWaitsForTheDownWindow) {
  AutoscalerConfig c = Simple();
  c.scale_down_window_s = 300;
  Autoscaler a(c);
  EXPECT_EQ(a.Decide(0, Fleet(4, 6), 4).desired, 4);
  for (double t = 5; t < 300; t += 5) {
    Decision d = a.Decide(t, Fleet(4, 1), 4);
    ASSERT_EQ(d.desired, 4) << t;
    ASSERT_NE(d.reason.find("scale-down stabilization"), std::string::npos) << d.reason;
  }
  // At t=305 every proposal in [5, 305] is 1 (ceil(4 * 0.1 / 0.6)).
  EXPECT_EQ(a.Decide(305, Fleet(4, 1), 4).desired, 1);
}

TEST(AutoscalerTest, ScaleDownTakesTheHighestProposalOfTheWindow) {
  AutoscalerConfig c = Simple();
  c.scale_down_window_s = 60;
  Autoscaler a(c);
  EXPECT_EQ(a.Decide(0, Fleet(8, 5), 8).desired, 8);     // in the band
  EXPECT_EQ(a.Decide(10, Fleet(8, 2.5), 8).desired, 8);  // proposes ceil(8 * .25 / .6) = 4
  EXPECT_EQ(a.Decide(40, Fleet(8, 1), 8).desired, 8);    // proposes 2
  EXPECT_EQ(a.Decide(65, Fleet(8, 1), 8).desired, 4);    // window [5, 65]: 4, 2, 2
  EXPECT_EQ(a.Decide(71, Fleet(4, 2), 4).desired, 2);    // window [11, 71]: 2, 2, 2
}

TEST(AutoscalerTest, ScaleUpWindowIgnoresAOneTickSpike) {
  AutoscalerConfig c = Simple();
  c.scale_up_window_s = 15;
  Autoscaler a(c);
  EXPECT_EQ(a.Decide(0, Fleet(4, 6), 4).desired, 4);
  Decision spike = a.Decide(5, Fleet(4, 10), 4);
  EXPECT_EQ(spike.desired, 4);
  EXPECT_NE(spike.reason.find("scale-up stabilization"), std::string::npos) << spike.reason;
  EXPECT_EQ(a.Decide(10, Fleet(4, 6), 4).desired, 4);
  // Sustained: 15 s of high load after the last low proposal (t=10).
  EXPECT_EQ(a.Decide(15, Fleet(4, 10), 4).desired, 4);
  EXPECT_EQ(a.Decide(20, Fleet(4, 10), 4).desired, 4);
  EXPECT_EQ(a.Decide(26, Fleet(4, 10), 4).desired, 7);  // ceil(4 * 1.0 / 0.6)
}

TEST(AutoscalerTest, CooldownsAfterChanges) {
  AutoscalerConfig c = Simple();
  c.scale_up_cooldown_s = 30;
  c.scale_down_cooldown_s = 60;
  Autoscaler a(c);
  EXPECT_EQ(a.Decide(0, Fleet(4, 9), 4).desired, 6);
  Decision held = a.Decide(10, Fleet(6, 9), 6);
  EXPECT_EQ(held.desired, 6);
  EXPECT_NE(held.reason.find("scale-up cooldown"), std::string::npos) << held.reason;
  EXPECT_EQ(a.Decide(31, Fleet(6, 9), 6).desired, 9);
  Decision down = a.Decide(60, Fleet(9, 1), 9);  // 29 s after the last change
  EXPECT_EQ(down.desired, 9);
  EXPECT_NE(down.reason.find("scale-down cooldown"), std::string::npos) << down.reason;
  EXPECT_EQ(a.Decide(92, Fleet(9, 1), 9).desired, 2);  // ceil(9 * 0.1 / 0.6)
}

TEST(AutoscalerTest, MinMaxAndStepLimits) {
  AutoscalerConfig c = Simple();
  c.min_replicas = 2;
  c.max_replicas = 10;
  Autoscaler a(c);
  EXPECT_EQ(a.Decide(0, Fleet(8, 10, 10), 8).desired, 10);  // huge load: capped at max
  EXPECT_EQ(a.Decide(1, Fleet(3, 0), 3).desired, 2);        // idle: floored at min
  EXPECT_EQ(a.Decide(2, Fleet(1, 0), 1).desired, 2);        // below min: raised
  EXPECT_EQ(a.Decide(3, {}, 12).desired, 10);               // above max: lowered
  c.max_step_up = 2;
  c.max_step_down = 1;
  Autoscaler limited(c);
  Decision up = limited.Decide(0, Fleet(4, 10), 4);
  EXPECT_EQ(up.desired, 6);
  EXPECT_NE(up.reason.find("step limited"), std::string::npos);
  EXPECT_EQ(limited.Decide(1, Fleet(6, 0), 6).desired, 5);
}

TEST(AutoscalerTest, NoMetricsMeansHold) {
  Autoscaler a(Simple());
  Decision d = a.Decide(0, {}, 3);
  EXPECT_EQ(d.desired, 3);
  EXPECT_NE(d.reason.find("no ready worker"), std::string::npos);
}

TEST(AutoscalerTest, StartingReplicasCountAsIdle) {
  Autoscaler a(Simple());
  // 4 ready workers at 0.9, but 6 replicas already ordered: load 4 * 9 / 10 / 6 = 0.6.
  Decision d = a.Decide(0, Fleet(4, 9), 6);
  EXPECT_EQ(d.desired, 6);
  EXPECT_NEAR(d.inputs.load, 0.6, 1e-12);
}

TEST(AutoscalerTest, QueueAndTtftMetricsVote) {
  AutoscalerConfig c = Simple();
  c.queue_capacity = 4;
  c.ttft_slo_s = 2;
  Autoscaler a(c);
  std::vector<WorkerLoad> loads = Fleet(2, 2);
  for (WorkerLoad& l : loads) l.ttft_delta = {{1, 0}, {4, 100}, {INFINITY, 100}};  // p95 3.85 s
  // No queue: a slow TTFT is prefill time, which replicas do not cut: the TTFT does not vote.
  Decision no_queue = a.Decide(0, loads, 2);
  ASSERT_TRUE(no_queue.inputs.ttft_p95_s.has_value());
  EXPECT_NEAR(*no_queue.inputs.ttft_p95_s, 1 + 3 * 0.95, 1e-9);
  EXPECT_EQ(no_queue.inputs.ttft_util, 0);
  EXPECT_EQ(no_queue.desired, 1);  // 0.2 concurrency < 0.3: down
  for (WorkerLoad& l : loads) l.queue_depth = 1;
  Decision queued = a.Decide(1, loads, 2);
  EXPECT_EQ(queued.inputs.dominant_metric, "ttft");
  EXPECT_NEAR(queued.inputs.ttft_util, 3.85 / 2, 1e-9);
  EXPECT_EQ(queued.desired, 7);  // ceil(2 * 1.925 / 0.6)
}

TEST(AutoscalerTest, OverrideIsClampedAndLogged) {
  EventLog log;
  AutoscalerConfig c = Simple();
  c.scale_down_window_s = 100;
  Autoscaler a(c, &log);
  EXPECT_EQ(a.Override(0, 3, 50, "test"), 20);
  ScalingEvent e = log.Recent().back();
  EXPECT_EQ(e.kind, "override");
  EXPECT_EQ(e.to, 20);
  EXPECT_NE(e.reason.find("clamped"), std::string::npos);
  // The override starts a fresh down window: low load does not undo it at once.
  EXPECT_EQ(a.Decide(10, Fleet(20, 1), 20).desired, 20);
}

TEST(AutoscalerTest, ValidateConfig) {
  EXPECT_TRUE(ValidateConfig(Simple()).ok());
  AutoscalerConfig c = Simple();
  c.min_replicas = 5;
  c.max_replicas = 4;
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = Simple();
  c.scale_down_threshold = 0.7;  // above the target
  EXPECT_FALSE(ValidateConfig(c).ok());
  EXPECT_TRUE(ParsePolicy("predictive").ok());
  EXPECT_FALSE(ParsePolicy("magic").ok());
}

// A fleet whose demand follows `rate(t)`: each request holds a slot for 4 s, so the busy slots
// are rate * 4 spread over the replicas. Returns the first time the policy scaled out.
double FirstScaleOut(PolicyKind policy, double (*rate)(double), double lead_s = 60) {
  AutoscalerConfig c = Simple();
  c.policy = policy;
  c.lead_s = lead_s;
  c.scale_down_window_s = 300;
  Autoscaler a(c);
  int replicas = 4;
  for (double t = 0; t < 1200; t += 5) {
    const double r = rate(t);
    Decision d = a.Decide(t, Fleet(replicas, r * 4 / replicas, 0, r / replicas), replicas);
    if (d.desired > 4) return t;
    replicas = d.desired;
  }
  return -1;
}

double Ramp(double t) { return t < 200 ? 4 : 4 + 0.02 * (t - 200); }  // rising from t=200

TEST(AutoscalerTest, PredictiveScalesOutBeforeReactiveOnARisingLoad) {
  const double reactive = FirstScaleOut(PolicyKind::kHpa, Ramp);
  const double predictive = FirstScaleOut(PolicyKind::kPredictive, Ramp);
  ASSERT_GT(reactive, 0);
  ASSERT_GT(predictive, 0);
  // Reactive waits for 0.8 utilisation: 4 * 0.8 * 10 / 4 = 8 req/s, at t = 400.
  EXPECT_GE(reactive, 395);
  EXPECT_LT(predictive, reactive - 60) << "predictive " << predictive << " reactive " << reactive;
  // The forecast itself moves it earlier: the same plan without lead (growth 1) is later.
  const double no_lead = FirstScaleOut(PolicyKind::kPredictive, Ramp, 0);
  EXPECT_LT(predictive, no_lead);
  std::printf("first scale-out: reactive t=%.0f s, predictive t=%.0f s (without lead %.0f s)\n",
              reactive, predictive, no_lead);
}

TEST(AutoscalerTest, PredictiveDecisionExplainsThePlan) {
  AutoscalerConfig c = Simple();
  c.policy = PolicyKind::kPredictive;
  EventLog log;
  Autoscaler a(c, &log);
  int replicas = 4;
  for (double t = 0; t <= 600; t += 5) {
    const double r = Ramp(t);
    replicas = a.Decide(t, Fleet(replicas, r * 4 / replicas, 0, r / replicas), replicas).desired;
  }
  std::optional<ScalingEvent> up;
  for (const ScalingEvent& e : log.Recent())
    if (!up && e.kind == "scale_up") up = e;
  ASSERT_TRUE(up.has_value());
  const ScalingEvent& first = *up;
  EXPECT_NE(first.reason.find("plan ceil(demand"), std::string::npos) << first.reason;
  EXPECT_GT(first.inputs["growth"].get<double>(), 1.0);
  EXPECT_GE(first.decision_us, 0.0);
}

}  // namespace
}  // namespace dte::autoscale
