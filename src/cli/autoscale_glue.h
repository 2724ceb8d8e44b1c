#pragma once
// AutoscaleGlue: connects the autoscaler's control loop (autoscale::Controller) to a running
// RouterService, for `dte up` (local workers through LocalWorkerSupervisor) and `dte route
// --autoscale` (a Kubernetes Deployment). It owns the Controller and its Actuator and serves
//
//   GET  /v1/scaling/status            -> Controller::StatusJson()
//   GET  /v1/scaling/events[?limit=N]  -> the newest N events (all by default)
//   POST /v1/scaling/replicas {"replicas": n} -> admin override, clamped to [min, max]
//
// Use (the order matters: the routes are mounted before the router is created, the loop runs on
// the router's executor, and it stops while that executor still runs; the glue must outlive the
// router's server, so declare it first):
//
//   AutoscaleFlags flags; AddAutoscaleFlags(app, &flags, /*for_route=*/false);   // CLI11
//   auto glue = AutoscaleGlue::FromFlags(flags, min, max, &router_options);  // mounts the routes
//   ... RouterService::Create(router_options), Start() ...   (the glue is declared first)
//   if (*glue) (*glue)->StartLocal(router, supervisor);        // or StartForRoute(router, flags)
//   ... WaitForStop() ...
//   if (*glue) (*glue)->Stop();   // not on an io thread; then router Shutdown, then the workers
//
// Before Start*() and after Stop() the routes answer 503 `autoscaler_not_running`. Threading:
// Start*/Stop from the owner's thread; the handlers run on the router's io threads.

#include <CLI/CLI.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "autoscale/autoscaler.h"
#include "autoscale/controller.h"
#include "autoscale/dns_targets.h"
#include "base/status.h"
#include "router/local_supervisor.h"
#include "router/router_service.h"

namespace dte::cli {

// The --scale-* flags. A negative value means "keep AutoscalerConfig's default".
struct AutoscaleFlags {
  bool enabled = false;   // `dte route --autoscale`; `dte up` sets it from --workers MIN..MAX
  bool disabled = false;  // --no-autoscale (dte up)
  std::string policy = "predictive";
  double period_s = 2;
  double target = 0.6;
  double max_batch = -1;  // per-worker capacity in sequences; -1: workers' --max-batch, else 8
  double up_window_s = -1, down_window_s = -1, up_cooldown_s = -1, down_cooldown_s = -1;
  double lead_s = -1, demand_smoothing_s = -1, forecast_warmup_s = -1;
  // dte route only.
  int min_workers = 1, max_workers = 8;
  std::string actuator = "kubernetes";
  std::string deployment = "dte-worker";
  std::string targets_dns;  // "http://dte-worker-pods:9001"; empty: the router's healthy backends
};

// Adds the flags to `app`. for_route adds --autoscale, --min-workers, --max-workers,
// --scale-actuator, --scale-deployment and --scale-targets-dns; otherwise --no-autoscale.
void AddAutoscaleFlags(CLI::App& app, AutoscaleFlags* flags, bool for_route);

// The config the flags describe, validated.
Result<autoscale::AutoscalerConfig> MakeAutoscalerConfig(const AutoscaleFlags& flags,
                                                         int min_replicas, int max_replicas);

// "--max-batch N" or "--max-batch=N" in a worker's argument list, or -1.
double MaxBatchFromArgs(const std::vector<std::string>& args);

class AutoscaleGlue {
 public:
  AutoscaleGlue(autoscale::AutoscalerConfig config, double period_s);
  // Null when flags.enabled is false or flags.disabled is true; otherwise a glue for the flags'
  // config with its routes mounted on `options` (so call it before RouterService::Create).
  // InvalidArgument for an inconsistent config (min > max, ...).
  static Result<std::unique_ptr<AutoscaleGlue>> FromFlags(const AutoscaleFlags& flags,
                                                          int min_replicas, int max_replicas,
                                                          router::RouterOptions* options);
  ~AutoscaleGlue();  // Stop(): call Stop() yourself while the router's executor still runs
  AutoscaleGlue(const AutoscaleGlue&) = delete;
  AutoscaleGlue& operator=(const AutoscaleGlue&) = delete;

  // Chains the /v1/scaling/* routes onto options->extra_routes (keeping any already set).
  void MountRoutes(router::RouterOptions* options);

  // Starts the loop with a BackgroundProcessActuator on the supervisor (spawn: Spawn(); stop:
  // StopOne(drain)) and the router's healthy, non-draining backends as scrape targets.
  void StartLocal(router::RouterService& router, router::LocalWorkerSupervisor& supervisor);
  // `dte route --autoscale`: the Kubernetes actuator (options from the environment, see
  // KubernetesOptionsFromEnvironment) and DNS targets when flags.targets_dns is set.
  Status StartForRoute(router::RouterService& router, const AutoscaleFlags& flags);
  // Any actuator and targets.
  void Start(router::RouterService& router, std::unique_ptr<autoscale::Actuator> actuator,
             autoscale::TargetsFn targets);

  // Ends the loop, then waits for spawns/stops in progress. Idempotent; not on an io thread;
  // the router's executor must still run.
  void Stop();

  // Null before Start*() and after Stop(). Holding it keeps the loop's object alive.
  std::shared_ptr<autoscale::Controller> controller() const;

 private:
  const autoscale::AutoscalerConfig config_;
  const double period_s_;
  std::unique_ptr<autoscale::Actuator> actuator_;
  std::unique_ptr<autoscale::DnsTargets> dns_;
  // Destroyed in Stop() or by the last handler using it, while the executor exists (its timer
  // and sockets belong to the router's io_context).
  mutable std::mutex mu_;
  std::shared_ptr<autoscale::Controller> controller_;  // guarded by mu_
  bool started_ = false, stopped_ = false;
};

// The router's backends that take requests now (healthy, not draining), as base URLs.
std::vector<std::string> HealthyBackendUrls(router::BackendPool& pool);

}  // namespace dte::cli
