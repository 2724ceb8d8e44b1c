// dte bench: closed-loop load against any OpenAI-compatible server (see bench/closed_loop.h).
// A live progress line on stderr; the JSON report on stdout or in --json FILE.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/closed_loop.h"
#include "bench/report.h"
#include "cli/cli_util.h"
#include "cli/command.h"

namespace dte::cli {
namespace {

int RunBenchCommand(int argc, char** argv) {
  CLI::App app("Load-test an OpenAI-compatible server and report LLM latency metrics", "dte bench");
  std::string url = "http://127.0.0.1:8080", json_path, slo_text;
  bool allow_remote = false, quiet = false, no_ignore_eos = false;
  double temperature = -1;
  bench::WorkloadOptions w;
  bench::LoadOptions l;
  l.max_requests = 100'000;
  app.add_option("--url", url, "server base URL (http://host:port, optionally ending in /v1)");
  app.add_flag("--allow-remote", allow_remote, "allow a target that is not on loopback");
  app.add_option("-c,--users", l.users, "concurrent users (closed loop)")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--duration", l.duration_s, "seconds to send requests for")
      ->check(CLI::Range(0.001, 86'400.0));
  app.add_option("--requests", l.max_requests, "most requests to send")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--think", l.think_s, "seconds a user waits between requests")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--ramp-up", l.ramp_up_s, "seconds over which users start")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--timeout", l.timeout_s, "seconds one request may take")
      ->check(CLI::Range(0.001, 86'400.0));
  app.add_option("--threads", l.threads, "client I/O threads")->check(CLI::Range(1, 64));
  app.add_option("--model", w.model,
                 "model name to request (default: the first of GET /v1/models)");
  app.add_flag("--chat", w.chat, "use /v1/chat/completions (default: /v1/completions)");
  app.add_flag("--stream,!--no-stream", w.stream, "stream responses as SSE (default on)");
  app.add_option("--prompt-words", w.prompt_words, "words in each synthesized prompt")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--max-tokens", w.max_tokens, "max_tokens of each request")
      ->check(CLI::Range(1, 1'000'000));
  app.add_flag("--no-ignore-eos", no_ignore_eos,
               "do not send ignore_eos (llama-server then may stop early)");
  app.add_option("--temperature", temperature, "sampling temperature (default: the server's)");
  app.add_option("--session-turns", w.session_turns,
                 "multi-turn: each user creates a session and holds this many chat turns in it")
      ->check(CLI::Range(0, 100'000));
  app.add_option("--system-prompt", l.system_prompt, "system prompt of each session");
  app.add_option("--seed", w.seed, "seed of the synthesized prompts");
  app.add_option("--slo", slo_text, "goodput SLOs, e.g. ttft=500ms,tpot=50ms (also e2e=)");
  app.add_option("--json", json_path, "write the JSON report here (default: stdout)");
  app.add_flag("-q,--quiet", quiet, "no progress line");
  CLI11_PARSE(app, argc, argv);

  const std::string name = "dte bench";
  Result<bench::Target> target = bench::ResolveTarget(url, allow_remote);
  if (!target.ok()) return Fail(name, target.status());
  bench::Slo slo;
  if (!slo_text.empty()) {
    Result<bench::Slo> parsed = bench::ParseSlo(slo_text);
    if (!parsed.ok()) return Fail(name, parsed.status());
    slo = *parsed;
  }
  if (w.session_turns > 0) w.chat = true;  // sessions continue chats
  w.ignore_eos = !no_ignore_eos;
  if (temperature >= 0) w.temperature = temperature;
  l.progress = !quiet;

  bench::Recorder recorder(slo);
  Result<bench::RunResult> run = bench::RunClosedLoop(*target, w, l, recorder);
  if (!run.ok()) return Fail(name, run.status());
  const std::string report = bench::ReportJson(*target, w, l, *run, recorder);
  if (json_path.empty()) {
    std::fputs(report.c_str(), stdout);
  } else {
    std::ofstream out(json_path, std::ios::binary | std::ios::trunc);
    out << report;
    if (!out) return Fail(name, Status::IoError("cannot write " + json_path));
  }
  return run->interrupted ? 130 : 0;
}

const RegisterCommand kRegister("bench", "load-test an OpenAI-compatible server (LLM metrics)",
                                RunBenchCommand);

}  // namespace
}  // namespace dte::cli
