#pragma once
// Simulator: replays a request trace against a fleet of modelled workers driven by an
// Autoscaler, to compare scaling policies offline (`dte autoscale simulate`).
//
// Worker model: each replica runs up to `slots` requests at once; a request holds a slot for
// prompt/prefill_tok_s + gen/decode_tok_s seconds (decode_tok_s is the per-sequence speed at
// a full batch, so the model is conservative at low load); its time to first token is the
// prefill part. Requests wait in one FIFO (the router's) for a free slot on a ready replica,
// least-busy first. A new replica is ready `startup_s` after the autoscaler orders it; a
// replica removed on scale-in first stops getting requests, then leaves when its last one
// ends (a starting replica is cancelled at once). Every `control_period_s` the autoscaler gets
// one WorkerLoad per ready replica, built as a worker's /metrics would report it (queue depth,
// active sequences, request rate, TTFT histogram deltas), and its decision is applied.
//
// SLO attainment = share of requests whose queueing + TTFT <= slo_s. Replica-seconds count
// every replica from the order that started it until it left (or the last arrival, whichever
// is first), starting and draining time included. Single-threaded, deterministic.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autoscale/autoscaler.h"
#include "autoscale/trace.h"

namespace dte::autoscale {

struct CapacityModel {
  int slots = 8;                // concurrent sequences per replica
  double prefill_tok_s = 4000;  // prompt tokens per second for one request
  double decode_tok_s = 40;     // generated tokens per second per sequence at a full batch
  double startup_s = 30;        // from the order to ready
};

// Fills prefill_tok_s / decode_tok_s from `dte perf --json [--batch ...]` output: prefill from
// "prefill_tok_s", decode from the "batch_decode" entry nearest `slots` (per_sequence_tok_s),
// else batch-1 "decode_tok_s".
Status ApplyCalibration(const nlohmann::json& perf, CapacityModel* model);
// Rescales the model's token speeds so that one replica serves `rps` requests/s of the
// trace's mean request at full occupancy (slots / mean service time = rps).
void ScaleToCapacityRps(const std::vector<TraceRequest>& trace, double rps, CapacityModel* model);
// Requests/s one full replica serves for the trace's mean request.
double ReplicaCapacityRps(const std::vector<TraceRequest>& trace, const CapacityModel& model);

struct SimOptions {
  CapacityModel capacity;
  AutoscalerConfig autoscaler;
  double control_period_s = 5;
  double slo_s = 2.0;        // queueing + TTFT objective per request
  double time_scale = 1.0;   // arrivals at t / time_scale (2: the trace twice as fast)
  int initial_replicas = 0;  // 0: enough for the first minute's rate at the target
  size_t keep_events = 256;
};

struct SimResult {
  std::string policy;
  int64_t requests = 0;
  double slo_attainment = 0;                              // 0..1
  double ttft_p50_s = 0, ttft_p95_s = 0, ttft_p99_s = 0;  // queueing + TTFT
  double replica_seconds = 0;
  double mean_replicas = 0;
  int peak_replicas = 0;
  int scale_ups = 0, scale_downs = 0;
  double duration_s = 0;  // last arrival
  double decision_us_mean = 0, decision_us_max = 0;
  std::vector<ScalingEvent> events;  // the last keep_events
  nlohmann::json ToJson() const;
};

Result<SimResult> Simulate(const std::vector<TraceRequest>& trace, const SimOptions& options);

}  // namespace dte::autoscale
