// dte autoscale simulate: replays a request trace against modelled workers under one or more
// scaling policies (src/autoscale/simulator.h) and prints SLO attainment and replica-seconds
// per policy, as a table or --json.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "autoscale/simulator.h"
#include "cli/cli_util.h"
#include "cli/command.h"

namespace dte::cli {
namespace {

using autoscale::PolicyKind;

void PrintTable(const std::vector<autoscale::SimResult>& results, double capacity_rps) {
  std::printf(
      "| policy | requests | SLO attainment | p95 wait+TTFT s | replica-seconds | mean replicas | "
      "peak | scale ups/downs | decision us (mean/max) |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const autoscale::SimResult& r : results)
    std::printf("| %s | %lld | %.2f %% | %.2f | %.0f | %.2f | %d | %d/%d | %.1f/%.1f |\n",
                r.policy.c_str(), static_cast<long long>(r.requests), 100 * r.slo_attainment,
                r.ttft_p95_s, r.replica_seconds, r.mean_replicas, r.peak_replicas, r.scale_ups,
                r.scale_downs, r.decision_us_mean, r.decision_us_max);
  std::printf("\none replica serves %.3f req/s of the trace's mean request at full occupancy\n",
              capacity_rps);
}

int RunSimulate(int argc, char** argv) {
  CLI::App app("Replay a request trace against modelled workers under scaling policies",
               "dte autoscale simulate");
  std::string trace_path, calibration_path;
  std::vector<std::string> policies = {"hpa", "predictive"};
  double capacity_rps = 0, predictive_target = 0;
  bool json = false;
  size_t events = 0;
  autoscale::SimOptions o;
  autoscale::AutoscalerConfig& a = o.autoscaler;
  a.min_replicas = 1;
  a.max_replicas = 64;
  app.add_option("--trace", trace_path, "trace file (Azure CSV, seconds CSV or Mooncake JSONL)")
      ->required();
  app.add_option("--policy", policies, "policies to compare: hpa, predictive (comma list)")
      ->delimiter(',');
  app.add_option("--capacity-rps", capacity_rps,
                 "requests/s one full replica serves (rescales the token speeds)");
  app.add_option("--calibration", calibration_path, "`dte perf --json --batch N` output");
  app.add_option("--slots", o.capacity.slots, "concurrent sequences per replica")
      ->check(CLI::Range(1, 4096));
  app.add_option("--prefill-tok-s", o.capacity.prefill_tok_s, "prompt tokens/s per request");
  app.add_option("--decode-tok-s", o.capacity.decode_tok_s, "generated tokens/s per sequence");
  app.add_option("--startup", o.capacity.startup_s, "seconds from order to a ready replica");
  app.add_option("--slo", o.slo_s,
                 "queueing + TTFT objective, seconds (also the TTFT SLO of the load score)");
  app.add_option("--time-scale", o.time_scale, "replay the trace this many times faster");
  app.add_option("--period", o.control_period_s, "control loop period, seconds");
  app.add_option("--initial-replicas", o.initial_replicas,
                 "replicas at t=0 (default: enough for the first minute at the target)");
  app.add_option("--min-replicas", a.min_replicas, "fewest replicas");
  app.add_option("--max-replicas", a.max_replicas, "most replicas");
  app.add_option("--target", a.target_utilization, "target utilisation of the HPA formula");
  app.add_option("--predictive-target", predictive_target,
                 "target utilisation for the predictive policy (default: --target)");
  app.add_option("--up-threshold", a.scale_up_threshold, "scale up above this load");
  app.add_option("--down-threshold", a.scale_down_threshold, "scale down below this load");
  app.add_option("--tolerance", a.tolerance, "HPA tolerance around the target");
  app.add_option("--up-window", a.scale_up_window_s, "scale-up stabilization window, s");
  app.add_option("--down-window", a.scale_down_window_s, "scale-down stabilization window, s");
  app.add_option("--up-cooldown", a.scale_up_cooldown_s, "s after a scale-up before the next");
  app.add_option("--down-cooldown", a.scale_down_cooldown_s,
                 "s after a change before a scale-down");
  app.add_option("--lead", a.lead_s, "forecast horizon of the predictive policy, s");
  app.add_option("--demand-smoothing", a.demand_smoothing_s,
                 "time constant of the predictive policy's demand average, s");
  app.add_option("--alpha", a.forecast.alpha, "forecast level smoothing");
  app.add_option("--beta", a.forecast.beta, "forecast trend smoothing");
  app.add_option("--season", a.forecast.season_s, "forecast season length, s (0: none)");
  app.add_option("--ttft-slo", a.ttft_slo_s, "TTFT p95 objective of the load score, s");
  app.add_option("--max-batch", a.max_batch,
                 "sequences per worker in the load score (default --slots)");
  app.add_flag("--json", json, "print JSON instead of a table");
  app.add_option("--events", events, "with --json: include the last N scaling events");
  CLI11_PARSE(app, argc, argv);
  const bool max_batch_set = app.count("--max-batch") > 0;

  const std::string name = "dte autoscale simulate";
  Result<std::vector<autoscale::TraceRequest>> trace = autoscale::LoadTrace(trace_path);
  if (!trace.ok()) return Fail(name, trace.status());
  if (!calibration_path.empty()) {
    std::ifstream in(calibration_path);
    if (!in) return Fail(name, Status::NotFound("cannot open " + calibration_path));
    nlohmann::json perf = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (perf.is_discarded()) return Fail(name, Status::Corrupt(calibration_path + " is not JSON"));
    if (Status s = autoscale::ApplyCalibration(perf, &o.capacity); !s.ok()) return Fail(name, s);
  }
  if (capacity_rps > 0) autoscale::ScaleToCapacityRps(*trace, capacity_rps, &o.capacity);
  if (!max_batch_set) a.max_batch = o.capacity.slots;
  a.ttft_slo_s = app.count("--ttft-slo") ? a.ttft_slo_s : o.slo_s;
  o.keep_events = std::max<size_t>(events, 1);

  std::vector<autoscale::SimResult> results;
  for (const std::string& p : policies) {
    Result<PolicyKind> kind = autoscale::ParsePolicy(p);
    if (!kind.ok()) return Fail(name, kind.status());
    autoscale::SimOptions run = o;
    run.autoscaler.policy = *kind;
    if (*kind == PolicyKind::kPredictive && predictive_target > 0)
      run.autoscaler.target_utilization = predictive_target;
    Result<autoscale::SimResult> r = autoscale::Simulate(*trace, run);
    if (!r.ok()) return Fail(name, r.status());
    if (events == 0) r->events.clear();
    results.push_back(std::move(*r));
  }
  const double rps = autoscale::ReplicaCapacityRps(*trace, o.capacity);
  if (json) {
    nlohmann::json out = {{"trace", trace_path},
                          {"requests", trace->size()},
                          {"time_scale", o.time_scale},
                          {"slo_s", o.slo_s},
                          {"capacity",
                           {{"slots", o.capacity.slots},
                            {"prefill_tok_s", o.capacity.prefill_tok_s},
                            {"decode_tok_s", o.capacity.decode_tok_s},
                            {"startup_s", o.capacity.startup_s},
                            {"replica_capacity_rps", rps}}},
                          {"results", nlohmann::json::array()}};
    for (const autoscale::SimResult& r : results) out["results"].push_back(r.ToJson());
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    PrintTable(results, rps);
  }
  return 0;
}

int RunAutoscale(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) != "simulate") {
    std::fprintf(stderr,
                 "usage: dte autoscale simulate --trace FILE [--policy hpa,predictive] ...\n"
                 "       dte autoscale simulate --help\n");
    return 2;
  }
  std::string prog = "dte autoscale simulate";
  std::vector<char*> args;
  args.push_back(prog.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return RunSimulate(static_cast<int>(args.size()), args.data());
}

const RegisterCommand kRegister("autoscale", "offline scaling-policy simulation (simulate)",
                                RunAutoscale);

}  // namespace
}  // namespace dte::cli
