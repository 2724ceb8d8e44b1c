#include "bench/report.h"

#include <nlohmann/json.hpp>

namespace dte::bench {

std::string ReportJson(const Target& target, const WorkloadOptions& workload,
                       const LoadOptions& load, const RunResult& run, const Recorder& recorder) {
  using json = nlohmann::ordered_json;
  json config;
  config["url"] = target.Url();
  config["model"] = run.model;
  config["api"] = workload.chat ? "chat" : "completions";
  config["stream"] = workload.stream;
  config["prompt_words"] = workload.prompt_words;
  config["max_tokens"] = workload.max_tokens;
  config["ignore_eos"] = workload.ignore_eos;
  config["session_turns"] = workload.session_turns;
  config["users"] = load.users;
  config["duration_limit_s"] = load.duration_s;
  config["request_limit"] = load.max_requests;
  config["think_s"] = load.think_s;
  config["ramp_up_s"] = load.ramp_up_s;
  config["timeout_s"] = load.timeout_s;
  json report;
  report["config"] = config;
  report["interrupted"] = run.interrupted;
  report.update(json::parse(recorder.MeasurementsJson(run.duration_s)));
  return report.dump(2) + "\n";
}

}  // namespace dte::bench
