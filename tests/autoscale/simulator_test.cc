// Trace parsing and the autoscaling simulator on small synthetic traces (hand-checkable
// queueing, startup delay, replica-seconds) and on the real Azure trace file.

#include "autoscale/simulator.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dte::autoscale {
namespace {

TEST(TraceTest, ParsesTheAzureCsvFormat) {
  Result<std::vector<TraceRequest>> t = ParseTrace(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
      "2023-11-16 18:15:50.5000000,396,109\n"
      "2023-11-16 18:15:46.2500000,374,44\r\n"
      "2023-11-16 18:16:46.2500000,10,1\n",
      "trace.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 3u);
  EXPECT_DOUBLE_EQ((*t)[0].arrival_s, 0);  // sorted, relative to the first
  EXPECT_EQ((*t)[0].prompt_tokens, 374);
  EXPECT_NEAR((*t)[1].arrival_s, 4.25, 1e-6);
  EXPECT_NEAR((*t)[2].arrival_s, 60, 1e-6);
  EXPECT_EQ((*t)[1].gen_tokens, 109);
}

TEST(TraceTest, TimestampsAcrossMidnightAndMonths) {
  EXPECT_NEAR(*ParseTimestamp("1970-01-02 00:00:01"), 86401, 1e-9);
  EXPECT_NEAR(*ParseTimestamp("2024-03-01 00:00:00") - *ParseTimestamp("2024-02-28 23:59:59.5"),
              86400.5, 1e-6);  // a leap year
  EXPECT_FALSE(ParseTimestamp("2024/03/01 00:00:00").ok());
}

TEST(TraceTest, SecondsCsvAndJsonl) {
  Result<std::vector<TraceRequest>> csv = ParseTrace("0.5,100,10\n1.5,200,20\n", "x.csv");
  ASSERT_TRUE(csv.ok());
  EXPECT_DOUBLE_EQ((*csv)[1].arrival_s, 1.0);
  Result<std::vector<TraceRequest>> jsonl = ParseTrace(
      "{\"timestamp\": 1000, \"input_length\": 50, \"output_length\": 5, \"hash_ids\": [1]}\n"
      "{\"timestamp\": 3500, \"input_length\": 60, \"output_length\": 6}\n",
      "m.jsonl");
  ASSERT_TRUE(jsonl.ok()) << jsonl.status().ToString();
  EXPECT_DOUBLE_EQ((*jsonl)[1].arrival_s, 2.5);
  EXPECT_FALSE(ParseTrace("1,2\n", "bad.csv").ok());
  EXPECT_FALSE(ParseTrace("{\"timestamp\": 1}\n", "bad.jsonl").ok());
  EXPECT_FALSE(ParseTrace("", "empty.csv").ok());
}

TEST(TraceTest, LoadsTheAzureTrace) {
  Result<std::vector<TraceRequest>> t =
      LoadTrace(std::string(DTE_SHARED_DIR) + "/traces/AzureLLMInferenceTrace_conv.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 19366u);
  EXPECT_GT(t->back().arrival_s, 55 * 60);
  EXPECT_LT(t->back().arrival_s, 60 * 60);
}

// One replica, one slot, no autoscaling: requests at t = 0, 1, 2 of 2 s each (no prefill
// time to speak of) wait 0, 1 and 2 s.
TEST(SimulatorTest, QueueingOnOneFixedReplica) {
  std::vector<TraceRequest> trace = {{0, 1, 20}, {1, 1, 20}, {2, 1, 20}};
  SimOptions o;
  o.capacity.slots = 1;
  o.capacity.prefill_tok_s = 1e9;
  o.capacity.decode_tok_s = 10;
  o.autoscaler.min_replicas = o.autoscaler.max_replicas = 1;
  o.slo_s = 1.5;
  Result<SimResult> r = Simulate(trace, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->requests, 3);
  EXPECT_NEAR(r->slo_attainment, 2.0 / 3, 1e-12);
  EXPECT_NEAR(r->ttft_p99_s, 2, 1e-6);
  EXPECT_NEAR(r->replica_seconds, 2, 1e-9);  // until the last arrival
  EXPECT_EQ(r->scale_ups, 0);
}

// A step from 1 to 12 req/s: the autoscaler must add replicas, which serve only after the
// startup delay; a longer delay costs SLO attainment.
std::vector<TraceRequest> Step() {
  std::vector<TraceRequest> t;
  double time = 0;
  while (time < 600) {
    t.push_back({time, 100, 20});
    time += time < 200 ? 1.0 : 1.0 / 12;
  }
  return t;
}

SimOptions StepOptions(PolicyKind policy, double startup_s) {
  SimOptions o;
  o.capacity.slots = 4;
  o.capacity.prefill_tok_s = 1000;  // 0.1 s TTFT
  o.capacity.decode_tok_s = 10;     // 2 s decode: 2.1 s per request, ~1.9 req/s per replica
  o.capacity.startup_s = startup_s;
  o.autoscaler.policy = policy;
  o.autoscaler.max_batch = 4;
  o.autoscaler.max_replicas = 30;
  o.slo_s = 1.0;
  o.initial_replicas = 1;
  return o;
}

TEST(SimulatorTest, ScalesOutOnAStepAndStartupDelayCosts) {
  const std::vector<TraceRequest> trace = Step();
  Result<SimResult> fast = Simulate(trace, StepOptions(PolicyKind::kHpa, 5));
  Result<SimResult> slow = Simulate(trace, StepOptions(PolicyKind::kHpa, 60));
  ASSERT_TRUE(fast.ok() && slow.ok());
  EXPECT_EQ(fast->requests, static_cast<int64_t>(trace.size()));
  EXPECT_GE(fast->scale_ups, 1);
  EXPECT_GE(fast->peak_replicas, 7);  // 12 req/s / 1.9 per replica
  EXPECT_GT(fast->slo_attainment, slow->slo_attainment);
  EXPECT_GT(fast->slo_attainment, 0.8);
  ASSERT_FALSE(fast->events.empty());
  EXPECT_EQ(fast->events.front().kind, "scale_up");
  EXPECT_GT(fast->replica_seconds, 600 - 1e-6);  // at least one replica all along
  EXPECT_NEAR(fast->mean_replicas, fast->replica_seconds / fast->duration_s, 1e-9);
  nlohmann::json j = fast->ToJson();
  EXPECT_EQ(j["policy"], "hpa");
  EXPECT_EQ(j["requests"], fast->requests);
}

TEST(SimulatorTest, PredictivePolicyRuns) {
  Result<SimResult> r = Simulate(Step(), StepOptions(PolicyKind::kPredictive, 30));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->policy, "predictive");
  EXPECT_GT(r->slo_attainment, 0.5);
  EXPECT_GE(r->peak_replicas, 7);
}

TEST(SimulatorTest, CapacityHelpers) {
  std::vector<TraceRequest> trace = {{0, 1000, 100}, {1, 3000, 300}};
  CapacityModel m;
  m.slots = 8;
  ScaleToCapacityRps(trace, 2.0, &m);
  EXPECT_NEAR(ReplicaCapacityRps(trace, m), 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(m.prefill_tok_s, 4000);  // kept: the TTFT does not change
  nlohmann::json perf = {{"prefill_tok_s", 500.0},
                         {"decode_tok_s", 50.0},
                         {"batch_decode",
                          {{{"batch", 4}, {"per_sequence_tok_s", 30.0}},
                           {{"batch", 8}, {"per_sequence_tok_s", 20.0}}}}};
  ASSERT_TRUE(ApplyCalibration(perf, &m).ok());
  EXPECT_DOUBLE_EQ(m.prefill_tok_s, 500);
  EXPECT_DOUBLE_EQ(m.decode_tok_s, 20);  // the batch nearest 8 slots
  EXPECT_FALSE(ApplyCalibration(nlohmann::json::object(), &m).ok());
}

TEST(SimulatorTest, RejectsBadOptions) {
  SimOptions o;
  o.capacity.slots = 0;
  EXPECT_FALSE(Simulate(Step(), o).ok());
  EXPECT_FALSE(Simulate({}, SimOptions()).ok());
}

}  // namespace
}  // namespace dte::autoscale
