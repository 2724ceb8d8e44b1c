#include "bench/report.h"

#include <cmath>
#include <cstdio>

namespace dte::bench {
namespace {

using json = nlohmann::ordered_json;

json ScenarioJson(const Scenario& s) {
  json j;
  j["name"] = s.name;
  j["loop"] = s.open_loop ? "open" : "closed";
  j["duration_s"] = s.DurationS();
  if (s.open_loop) {
    j["arrival"] = ArrivalKindName(s.arrival);
    if (s.arrival == ArrivalKind::kGamma) j["cv"] = s.cv;
  } else {
    j["think_s"] = s.think_s;
  }
  json stages = json::array();
  for (const Stage& st : s.stages) {
    json x;
    x["duration_s"] = st.duration_s;
    x[s.open_loop ? "rate" : "users"] = st.target;
    if (st.from) x["from"] = *st.from;
    stages.push_back(x);
  }
  j["stages"] = stages;
  return j;
}

double Get(const json& j, const char* a, const char* b = nullptr) {
  const json* x = &j;
  if (!x->contains(a)) return 0;
  x = &(*x)[a];
  if (b) {
    if (!x->contains(b)) return 0;
    x = &(*x)[b];
  }
  return x->is_number() ? x->get<double>() : 0;
}

}  // namespace

json ReportObject(const Target& target, const WorkloadOptions& workload, const LoadOptions& load,
                  const RunDescription& d, const RunResult& run, const Recorder& recorder) {
  json config;
  config["url"] = target.Url();
  config["model"] = run.model;
  config["mode"] = d.mode;
  if (!workload.raw_path.empty()) {
    config["api"] = "raw";
    config["raw_request"] = workload.raw_method + " " + workload.raw_path;
  } else {
    config["api"] = workload.chat ? "chat" : "completions";
    config["stream"] = workload.stream;
    config["prompt_words"] = workload.prompt_words;
    config["max_tokens"] = workload.max_tokens;
    config["ignore_eos"] = workload.ignore_eos;
    config["session_turns"] = workload.session_turns;
    if (workload.prefixes > 0) {
      config["shared_prefixes"] = workload.prefixes;
      config["shared_prefix_words"] = workload.prefix_words;
    }
  }
  if (d.mode == "trace") {
    config["trace"] = d.trace;
    config["trace_time_scale"] = d.trace_time_scale;
    config["trace_length_scale"] = d.trace_length_scale;
  } else {
    config[load.scenario.open_loop ? "peak_rate" : "users"] = load.scenario.PeakValue();
    config["scenario"] = ScenarioJson(load.scenario);
    config["time_scale"] = d.time_scale;
  }
  config["duration_limit_s"] = load.max_duration_s;
  config["request_limit"] = load.max_requests;
  config["timeout_s"] = load.timeout_s;
  config["slo_default"] = d.default_slo;
  json report;
  report["config"] = config;
  report["interrupted"] = run.interrupted;
  report["ended_by"] = run.ended_by;
  report.update(json::parse(recorder.MeasurementsJson(run.duration_s)));
  report["grade"] = GradeOf(report);
  return report;
}

json GradeOf(const json& report) {
  const double requests = Get(report, "requests");
  const double errors = Get(report, "errors");
  const double good = Get(report, "goodput", "good_requests");
  const double good_fraction = requests > 0 ? good / requests : 0;
  const double error_fraction = requests > 0 ? errors / requests : 0;
  struct Band {
    const char* letter;
    double good, errors;
  };
  constexpr Band kBands[] = {
      {"A", 0.99, 0.001}, {"B", 0.95, 0.01}, {"C", 0.90, 0.02}, {"D", 0.75, 0.05}};
  std::string letter = "F";
  if (requests > errors) {
    for (const Band& b : kBands) {
      if (good_fraction >= b.good && error_fraction <= b.errors) {
        letter = b.letter;
        break;
      }
    }
  }
  json g;
  g["letter"] = letter;
  g["good_fraction"] = std::round(good_fraction * 1e4) / 1e4;
  g["error_fraction"] = std::round(error_fraction * 1e4) / 1e4;
  g["rule"] =
      "A: good>=99% & errors<=0.1%; B: >=95% & <=1%; C: >=90% & <=2%; D: >=75% & <=5%; else F";
  return g;
}

json CompareObject(const json& a, const json& b) {
  json ratios;
  const auto ratio = [&](const char* name, const char* key, const char* sub) {
    const double x = Get(a, key, sub), y = Get(b, key, sub);
    ratios[name] = x > 0 ? json(std::round(y / x * 1e4) / 1e4) : json();
  };
  ratio("requests_per_s", "requests_per_s", nullptr);
  ratio("output_tokens_per_s", "output_tokens_per_s", nullptr);
  ratio("goodput_requests_per_s", "goodput", "goodput_requests_per_s");
  ratio("ttft_p50", "ttft_ms", "p50");
  ratio("ttft_p99", "ttft_ms", "p99");
  ratio("tpot_p50", "tpot_ms", "p50");
  ratio("tpot_p99", "tpot_ms", "p99");
  ratio("e2e_p50", "e2e_ms", "p50");
  ratio("e2e_p99", "e2e_ms", "p99");
  json j;
  j["compare"] = true;
  j["ratio_definition"] = "B / A (second target over first)";
  j["runs"] = json::array({a, b});
  j["ratios"] = ratios;
  return j;
}

std::string SummaryText(const json& report) {
  std::string out;
  char line[256];
  const bool compare = report.contains("compare");
  const json empty = json::object();
  const json& a = compare ? report["runs"][0] : report;
  const json& b = compare ? report["runs"][1] : empty;
  const auto row = [&](const char* label, const char* key, const char* sub, const char* ratio) {
    if (compare) {
      const json& r = report["ratios"];
      const std::string rt = ratio && r.contains(ratio) && r[ratio].is_number()
                                 ? std::to_string(r[ratio].get<double>()).substr(0, 6)
                                 : "-";
      std::snprintf(line, sizeof line, "  %-24s %14.3f %14.3f %10s\n", label, Get(a, key, sub),
                    Get(b, key, sub), rt.c_str());
    } else {
      std::snprintf(line, sizeof line, "  %-24s %14.3f\n", label, Get(a, key, sub));
    }
    out += line;
  };
  if (compare) {
    std::snprintf(line, sizeof line, "  %-24s %14s %14s %10s\n", "", "A", "B", "B/A");
    out += line;
  }
  row("requests", "requests", nullptr, nullptr);
  row("errors", "errors", nullptr, nullptr);
  row("requests/s", "requests_per_s", nullptr, "requests_per_s");
  row("output tokens/s", "output_tokens_per_s", nullptr, "output_tokens_per_s");
  row("goodput requests/s", "goodput", "goodput_requests_per_s", "goodput_requests_per_s");
  for (const char* m : {"ttft_ms", "tpot_ms", "inter_chunk_ms", "e2e_ms"}) {
    for (const char* p : {"p50", "p90", "p99", "p99.9", "max"}) {
      const std::string label = std::string(m).substr(0, std::string(m).size() - 3) + " " + p +
                                " (ms)";
      const std::string ratio = std::string(m).substr(0, std::string(m).size() - 3) + "_" + p;
      row(label.c_str(), m, p, ratio.c_str());
    }
  }
  const auto grade = [](const json& r) {
    return r.contains("grade") ? r["grade"]["letter"].get<std::string>() : std::string("-");
  };
  std::snprintf(line, sizeof line, "  %-24s %14s", "grade", grade(a).c_str());
  out += line;
  if (compare) {
    std::snprintf(line, sizeof line, " %14s", grade(b).c_str());
    out += line;
  }
  out += "\n";
  return out;
}

}  // namespace dte::bench
