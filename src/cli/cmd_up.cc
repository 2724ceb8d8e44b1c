// dte up: the one-machine default — the router plus MIN locally supervised `dte serve` workers
// behind one URL; with --workers MIN..MAX (MAX > MIN) the autoscaler (cli/autoscale_glue.h)
// keeps between MIN and MAX of them. Ctrl-C / SIGTERM stops the autoscaler, drains the router,
// then the workers, and exits 0.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "cli/autoscale_glue.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "router/local_supervisor.h"
#include "router/router_service.h"

namespace dte::cli {
namespace {

constexpr const char* kDemoModel = "models/tiny-rwkv-5v2-730K-FP16.bin";

// The bundled demo model: under the working directory (a source checkout), else next to the
// binary's source tree (build/dte -> ../models).
std::string DefaultModel() {
  std::error_code ec;
  if (std::filesystem::exists(kDemoModel, ec)) return kDemoModel;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (std::filesystem::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    if (std::filesystem::exists(dir / kDemoModel, ec)) return (dir / kDemoModel).string();
  }
  return {};
}

// "2", "2..4" -> {min, max}.
bool ParseWorkers(const std::string& text, int* min, int* max) {
  const size_t dots = text.find("..");
  try {
    size_t used = 0;
    if (dots == std::string::npos) {
      *min = *max = std::stoi(text, &used);
      return used == text.size() && *min >= 1;
    }
    *min = std::stoi(text.substr(0, dots), &used);
    if (used != dots) return false;
    const std::string rest = text.substr(dots + 2);
    *max = std::stoi(rest, &used);
    return used == rest.size() && *min >= 1 && *max >= *min;
  } catch (const std::exception&) {
    return false;
  }
}

int RunUpCommand(int argc, char** argv) {
  CLI::App app("Run the router and supervised local workers behind one URL", "dte up");
  router::RouterOptions o;
  std::string workers = "1..4", model, model_name = "demo", log_level = "info";
  int threads = 0;
  int64_t drain_s = 30;
  std::string worker_args;
  app.add_option("--workers", workers,
                 "MIN..MAX workers (MIN start now; MAX is the autoscaler's ceiling)");
  app.add_option("--model", model, "model file for the workers (default: the bundled demo model)");
  app.add_option("--model-name", model_name, "name clients use");
  app.add_option("--host", o.host, "router address");
  app.add_option("--port", o.port, "router port (0: any free port)");
  app.add_option("--threads", threads, "forward-pass threads per worker (0: cores / MIN)")
      ->check(CLI::Range(0, 256));
  app.add_option("--policy", o.policy, "balancing policy")
      ->check(CLI::IsMember(router::PolicyNames()));
  app.add_option("--worker-args", worker_args,
                 "extra arguments for every `dte serve`, space-separated (e.g. \"--max-batch 8\")");
  app.add_option("--drain-timeout", drain_s, "seconds to finish in-flight requests on SIGTERM")
      ->check(CLI::Range(0, 3600));
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}));
  router::ObservabilityOptions& obs = o.observability;
  app.add_option("--otlp-endpoint", obs.otlp_endpoint,
                 "OTLP/HTTP JSON trace endpoint for the router and every worker");
  app.add_option("--trace-sample-ratio", obs.trace_sample_ratio,
                 "share of new traces recorded (router and workers follow one decision per trace)")
      ->check(CLI::Range(0.0, 1.0));
  AutoscaleFlags scale;
  AddAutoscaleFlags(app, &scale, /*for_route=*/false);
  CLI11_PARSE(app, argc, argv);
  SetLogLevel(log_level == "debug"     ? LogLevel::kDebug
              : log_level == "warning" ? LogLevel::kWarning
              : log_level == "error"   ? LogLevel::kError
                                       : LogLevel::kInfo);
  if (model.empty()) model = DefaultModel();
  if (model.empty())
    return Fail("up", Status::NotFound("no --model given and the bundled demo model is not found"));
  int min_workers = 0, max_workers = 0;
  if (!ParseWorkers(workers, &min_workers, &max_workers)) {
    return Fail("up",
                Status::InvalidArgument("--workers must be N or MIN..MAX, got '" + workers + "'"));
  }
  if (threads == 0) {
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / min_workers);
  }

  router::WorkerSpec spec;
  spec.serve_args = {"--model",      model,
                     "--model-name", model_name,
                     "--threads",    std::to_string(threads),
                     "--log-level",  log_level == "info" ? "warning" : log_level};
  if (!obs.otlp_endpoint.empty()) {
    spec.serve_args.insert(spec.serve_args.end(), {"--otlp-endpoint", obs.otlp_endpoint});
  }
  spec.serve_args.insert(spec.serve_args.end(),
                         {"--trace-sample-ratio", std::to_string(obs.trace_sample_ratio)});
  std::istringstream extra(worker_args);
  for (std::string arg; extra >> arg;) spec.serve_args.push_back(arg);
  spec.drain_timeout = std::chrono::seconds(drain_s);
  spec.kill_timeout = std::chrono::seconds(drain_s + 5);

  // Declared before the router: its /v1/scaling/* routes live in the router's server.
  scale.enabled = max_workers > min_workers;
  if (scale.max_batch <= 0) scale.max_batch = MaxBatchFromArgs(spec.serve_args);
  Result<std::unique_ptr<AutoscaleGlue>> glue_or =
      AutoscaleGlue::FromFlags(scale, min_workers, max_workers, &o);
  if (!glue_or.ok()) return Fail("up", glue_or.status());
  std::unique_ptr<AutoscaleGlue> glue = std::move(*glue_or);

  auto service = router::RouterService::Create(o);
  if (!service.ok()) return Fail("up", service.status());
  router::RouterService& router = **service;
  if (Status s = router.Start(); !s.ok())
    return Fail("up", s);  // watches SIGINT/SIGTERM from here on

  int exit_code = 0;
  {
    router::LocalWorkerSupervisor supervisor(spec, router.pool());
    for (int i = 0; i < min_workers && !router.stop_requested(); ++i) {
      Result<std::string> url = supervisor.Spawn();
      if (!url.ok()) {
        exit_code = Fail("up", url.status());
        router.RequestStop();
      }
    }
    if (exit_code == 0 && !router.stop_requested()) {
      supervisor.StartMonitor();
      if (glue) glue->StartLocal(router, supervisor);
      LogInfo("dte up: " + std::to_string(min_workers) + " workers (max " +
              std::to_string(max_workers) + (glue ? ", autoscaled" : ", fixed") + "), policy " +
              o.policy + ", listening on http://" + o.host + ":" + std::to_string(router.port()));
      std::printf("listening on http://%s:%u\n", o.host.c_str(),
                  static_cast<unsigned>(router.port()));
      std::fflush(stdout);
    }
    router.WaitForStop();
    LogInfo("dte up: stopping: the autoscaler, then draining the router, then the workers");
    if (glue) glue->Stop();  // no spawns or stops after this; the router's loop still runs
    supervisor.StopMonitor();
    router.Shutdown(std::chrono::seconds(drain_s));  // in-flight client requests finish first
    supervisor.StopAll(/*drain=*/false);             // then SIGTERM: each worker drains itself
  }
  LogInfo("dte up: bye");
  return exit_code;
}

const RegisterCommand kRegister("up", "run the router and supervised local workers behind one URL",
                                RunUpCommand);

}  // namespace
}  // namespace dte::cli
