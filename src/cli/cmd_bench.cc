// dte bench: load against any OpenAI-compatible server (see docs/benchmarking.md): built-in or
// custom scenarios of closed-loop users, open-loop arrivals (constant, Poisson, gamma), trace
// replay, an optional second target (--compare). A live progress line and a summary table on
// stderr; the JSON report on stdout or in --json FILE; an offline HTML report in --html FILE.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench/closed_loop.h"
#include "bench/html_report.h"
#include "bench/open_loop.h"
#include "bench/report.h"
#include "bench/trace.h"
#include "cli/cli_util.h"
#include "cli/command.h"

namespace dte::cli {
namespace {

constexpr double kMaxDurationS = 86'400;  // every run is bounded in time...
constexpr int64_t kMaxRequests = 1'000'000'000;  // ...and in requests

struct Plan {
  bench::Scenario scenario;
  bench::RunDescription description;
  std::vector<bench::TraceRequest> trace;
  bench::TraceOptions trace_options;
};

Result<nlohmann::ordered_json> RunOnce(const bench::Target& target,
                                       const bench::WorkloadOptions& w,
                                       const bench::LoadOptions& l, const Plan& plan,
                                       const bench::Slo& slo) {
  bench::Recorder recorder(slo);
  Result<bench::RunResult> run = Status::Internal("not run");
  if (plan.description.mode == "trace") {
    std::unique_ptr<bench::RequestSource> source =
        bench::TraceSource(plan.trace, plan.trace_options);
    run = bench::RunOpenLoop(target, w, l, *source, recorder);
  } else if (l.scenario.open_loop) {
    std::unique_ptr<bench::RequestSource> source = bench::ScenarioSource(l.scenario, w);
    run = bench::RunOpenLoop(target, w, l, *source, recorder);
  } else {
    run = bench::RunClosedLoop(target, w, l, recorder);
  }
  if (!run.ok()) return run.status().WithPrefix(target.Url());
  nlohmann::ordered_json report =
      bench::ReportObject(target, w, l, plan.description, *run, recorder);
  return report;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return out ? Status::Ok() : Status::IoError("cannot write " + path);
}

int RunBenchCommand(int argc, char** argv) {
  CLI::App app("Load-test an OpenAI-compatible server and report LLM latency metrics", "dte bench");
  std::string url = "http://127.0.0.1:8080", compare_url, json_path, html_path, slo_text;
  std::string scenario_name, arrival = "poisson", trace_path;
  bool allow_remote = false, quiet = false, no_ignore_eos = false;
  double temperature = -1, time_scale = 1, rate = 0, cv = 1, duration = 10, ramp = 0, think = 0;
  int users = 1;
  bench::WorkloadOptions w;
  bench::LoadOptions l;
  Plan plan;
  app.add_option("--url", url, "server base URL (http://host:port, optionally ending in /v1)");
  app.add_option("--compare", compare_url, "a second server: run the same load against it too "
                                           "and report the ratios B/A");
  app.add_flag("--allow-remote", allow_remote, "allow a target that is not on loopback");
  app.add_option("--scenario", scenario_name,
                 "built-in scenario (light, medium, high, stress, spike, endurance) or a "
                 ".json/.yaml scenario file");
  app.add_option("--time-scale", time_scale, "multiply the scenario's stage durations by this")
      ->check(CLI::Range(1e-6, 1e6));
  auto* users_opt = app.add_option("-c,--users", users, "concurrent users (closed loop)")
                        ->check(CLI::Range(1, 100'000));
  auto* duration_opt =
      app.add_option("--duration", duration,
                     "seconds to run (without --scenario/--trace), else a cap on the run")
          ->check(CLI::Range(0.001, kMaxDurationS));
  app.add_option("--max-requests,--requests", l.max_requests, "most requests to send")
      ->check(CLI::Range(int64_t{1}, kMaxRequests));
  app.add_option("--think", think, "seconds a user waits between requests")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--ramp-up", ramp, "seconds over which users start")
      ->check(CLI::Range(0.0, kMaxDurationS));
  app.add_option("--rate", rate, "open loop: requests per second (instead of --users)")
      ->check(CLI::Range(0.0, 10'000'000.0));
  app.add_option("--arrival", arrival, "open-loop arrivals: constant, poisson or gamma");
  app.add_option("--cv", cv, "gamma arrivals: coefficient of variation of the gaps (burstiness)")
      ->check(CLI::Range(0.01, 100.0));
  app.add_option("--max-in-flight", l.max_in_flight, "open loop: most requests at once")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--trace", trace_path, "replay a trace (Azure .csv or Mooncake .jsonl)");
  app.add_option("--trace-time-scale", plan.trace_options.time_scale,
                 "multiply the trace's arrival offsets by this (0.1: ten times faster)")
      ->check(CLI::Range(1e-6, 1e6));
  app.add_option("--trace-length-scale", plan.trace_options.length_scale,
                 "multiply the trace's token counts by this")
      ->check(CLI::Range(1e-6, 1e3));
  app.add_option("--trace-lines", plan.trace_options.max_lines, "replay only the first N requests")
      ->check(CLI::Range(int64_t{0}, kMaxRequests));
  app.add_option("--timeout", l.timeout_s, "seconds one request may take")
      ->check(CLI::Range(0.001, kMaxDurationS));
  app.add_option("--threads", l.threads, "client I/O threads")->check(CLI::Range(1, 64));
  app.add_option("--model", w.model,
                 "model name to request (default: the first of GET /v1/models)");
  app.add_flag("--chat", w.chat, "use /v1/chat/completions (default: /v1/completions)");
  app.add_flag("--stream,!--no-stream", w.stream, "stream responses as SSE (default on)");
  app.add_option("--prompt-words", w.prompt_words, "words in each synthesized prompt")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--max-tokens", w.max_tokens, "max_tokens of each request")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--prefixes", w.prefixes, "shared-prefix workload: this many system prompts")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--prefix-words", w.prefix_words, "words in each shared prefix")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--path", w.raw_path, "raw workload: send bodiless requests to this path "
                                       "(e.g. /health) and only time them");
  app.add_option("--method", w.raw_method, "raw workload: the HTTP method (default GET)");
  app.add_flag("--no-ignore-eos", no_ignore_eos,
               "do not send ignore_eos (llama-server then may stop early)");
  app.add_option("--temperature", temperature, "sampling temperature (default: the server's)");
  app.add_option("--session-turns", w.session_turns,
                 "multi-turn: each user creates a session and holds this many chat turns in it")
      ->check(CLI::Range(0, 100'000));
  app.add_option("--system-prompt", l.system_prompt, "system prompt of each session");
  app.add_option("--seed", w.seed, "seed of the synthesized prompts and arrivals");
  app.add_option("--slo", slo_text,
                 "goodput SLOs, e.g. ttft=500ms,tpot=50ms,e2e=2s (default for the grade: "
                 "ttft=1s,tpot=100ms)");
  app.add_option("--json", json_path, "write the JSON report here (default: stdout)");
  app.add_option("--html", html_path, "write a self-contained HTML report here");
  app.add_flag("-q,--quiet", quiet, "no progress line and no summary table");
  CLI11_PARSE(app, argc, argv);

  const std::string name = "dte bench";
  Result<bench::Target> target = bench::ResolveTarget(url, allow_remote);
  if (!target.ok()) return Fail(name, target.status());
  std::optional<bench::Target> second;
  if (!compare_url.empty()) {
    Result<bench::Target> t = bench::ResolveTarget(compare_url, allow_remote);
    if (!t.ok()) return Fail(name, t.status().WithPrefix("--compare"));
    second = *t;
  }
  plan.description.default_slo = slo_text.empty();
  Result<bench::Slo> slo = bench::ParseSlo(slo_text.empty() ? "ttft=1s,tpot=100ms" : slo_text);
  if (!slo.ok()) return Fail(name, slo.status());
  if (w.session_turns > 0) w.chat = true;  // sessions continue chats
  w.ignore_eos = !no_ignore_eos;
  if (temperature >= 0) w.temperature = temperature;
  if (!w.raw_path.empty() && !w.raw_path.starts_with('/'))
    return Fail(name, Status::InvalidArgument("--path must start with '/'"));
  if ((w.prefixes > 0) != (w.prefix_words > 0))
    return Fail(name, Status::InvalidArgument("--prefixes and --prefix-words go together"));
  l.progress = !quiet;
  plan.trace_options.seed = w.seed;
  plan.description.time_scale = time_scale;

  const bool explicit_duration = duration_opt->count() > 0;
  double planned = duration;
  if (!trace_path.empty()) {
    if (!scenario_name.empty() || rate > 0)
      return Fail(name, Status::InvalidArgument("--trace replaces --scenario and --rate"));
    Result<std::vector<bench::TraceRequest>> trace =
        bench::LoadTrace(trace_path, plan.trace_options.max_lines);
    if (!trace.ok()) return Fail(name, trace.status());
    plan.trace = std::move(*trace);
    plan.description.mode = "trace";
    plan.description.trace = trace_path;
    plan.description.trace_time_scale = plan.trace_options.time_scale;
    plan.description.trace_length_scale = plan.trace_options.length_scale;
    planned = plan.trace.back().at_s * plan.trace_options.time_scale;
    l.scenario.open_loop = true;
    l.scenario.name = "trace";
  } else if (!scenario_name.empty()) {
    if (rate > 0 || users_opt->count() > 0)
      return Fail(name, Status::InvalidArgument("--scenario sets the users or rates itself; "
                                                "drop --users / --rate"));
    const bool file = std::filesystem::exists(scenario_name) || scenario_name.ends_with(".json") ||
                      scenario_name.ends_with(".yaml") || scenario_name.ends_with(".yml");
    Result<bench::Scenario> s = file ? bench::LoadScenarioFile(scenario_name)
                                     : bench::BuiltinScenario(scenario_name);
    if (!s.ok()) return Fail(name, s.status());
    l.scenario = s->TimeScaled(time_scale);
    planned = l.scenario.DurationS();
  } else if (rate > 0) {
    if (users_opt->count() > 0)
      return Fail(name, Status::InvalidArgument("--rate (open loop) and --users (closed loop) "
                                                "exclude each other"));
    Result<bench::ArrivalKind> kind = bench::ParseArrivalKind(arrival);
    if (!kind.ok()) return Fail(name, kind.status());
    l.scenario.name = "rate";
    l.scenario.open_loop = true;
    l.scenario.arrival = *kind;
    l.scenario.cv = cv;
    l.scenario.stages.push_back({duration, rate, rate});
  } else {
    l.scenario = bench::SteadyUsers(users, duration, ramp, think);
  }
  plan.description.mode = plan.description.mode.empty()
                              ? (l.scenario.open_loop ? "open" : "closed")
                              : plan.description.mode;
  l.max_duration_s = explicit_duration ? std::min(duration, planned + 1e-3) : planned + 1e-3;
  if (!explicit_duration && planned > kMaxDurationS) {
    return Fail(name, Status::InvalidArgument(
                          "the run would last " + std::to_string(planned) +
                          " s, over the 24 h bound: shorten it with --time-scale, "
                          "--trace-time-scale or --duration"));
  }

  nlohmann::ordered_json report;
  bench::LoadOptions la = l;
  if (second) la.label = "A";
  Result<nlohmann::ordered_json> a = RunOnce(*target, w, la, plan, *slo);
  if (!a.ok()) return Fail(name, a.status());
  bool interrupted = (*a)["interrupted"].get<bool>();
  report = *a;
  if (second && !interrupted) {
    bench::LoadOptions lb = l;
    lb.label = "B";
    Result<nlohmann::ordered_json> b = RunOnce(*second, w, lb, plan, *slo);
    if (!b.ok()) return Fail(name, b.status());
    interrupted = (*b)["interrupted"].get<bool>();
    report = bench::CompareObject(*a, *b);
  }
  if (!quiet) {
    std::fputs(bench::SummaryText(report).c_str(), stderr);
    if (a->value("ended_by", "") == "request_limit")
      std::fputs("note: the run stopped at --max-requests before its schedule ended\n", stderr);
  }
  const std::string text = report.dump(2) + "\n";
  if (json_path.empty()) {
    std::fputs(text.c_str(), stdout);
  } else if (Status s = WriteFile(json_path, text); !s.ok()) {
    return Fail(name, s);
  }
  if (!html_path.empty()) {
    if (Status s = WriteFile(html_path, bench::HtmlReport(report)); !s.ok()) return Fail(name, s);
  }
  return interrupted ? 130 : 0;
}

const RegisterCommand kRegister("bench", "load-test an OpenAI-compatible server (LLM metrics)",
                                RunBenchCommand);

}  // namespace
}  // namespace dte::cli
