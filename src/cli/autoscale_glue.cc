#include "cli/autoscale_glue.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "autoscale/background_actuator.h"
#include "autoscale/kubernetes_actuator.h"
#include "base/check.h"
#include "base/log.h"

namespace dte::cli {
namespace {

using json = nlohmann::json;
namespace asio = boost::asio;

// JSON is built outside the coroutines (GCC 12 and braced initializers in coroutines).
std::string ErrorJson(std::string_view message, std::string_view code) {
  return json{{"error",
               {{"message", message},
                {"type", "invalid_request_error"},
                {"param", nullptr},
                {"code", code}}}}
      .dump();
}

std::string NotRunningJson() {
  return ErrorJson("the autoscaler is not running", "autoscaler_not_running");
}

// The body of POST /v1/scaling/replicas: {"replicas": n} with an integer n >= 0.
std::optional<int> ReplicasFromBody(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("replicas") || !j["replicas"].is_number_integer())
    return std::nullopt;
  const int64_t n = j["replicas"].get<int64_t>();
  if (n < 0 || n > 1'000'000) return std::nullopt;
  return static_cast<int>(n);
}

std::string OverrideJson(int requested, int applied, const autoscale::AutoscalerConfig& c) {
  return json{{"requested", requested},
              {"replicas", applied},
              {"min_replicas", c.min_replicas},
              {"max_replicas", c.max_replicas}}
      .dump();
}

size_t LimitOf(const http::Request& req) {
  const std::optional<std::string_view> text = req.Query("limit");
  if (!text || text->empty()) return SIZE_MAX;
  size_t n = 0;
  for (char ch : *text) {
    if (ch < '0' || ch > '9') return SIZE_MAX;
    n = std::min<size_t>(n * 10 + static_cast<size_t>(ch - '0'), 1u << 20);
  }
  return n;
}

asio::awaitable<void> ScalingStatus(AutoscaleGlue* glue, http::Request&, http::Responder& res) {
  std::shared_ptr<autoscale::Controller> c = glue->controller();
  if (!c) {
    co_await res.Send(503, "application/json", NotRunningJson());
    co_return;
  }
  const std::string body = c->StatusJson().dump();
  co_await res.Send(200, "application/json", body);
}

asio::awaitable<void> ScalingEvents(AutoscaleGlue* glue, http::Request& req, http::Responder& res) {
  std::shared_ptr<autoscale::Controller> c = glue->controller();
  if (!c) {
    co_await res.Send(503, "application/json", NotRunningJson());
    co_return;
  }
  const std::string body = c->events().ToJson(LimitOf(req)).dump();
  co_await res.Send(200, "application/json", body);
}

asio::awaitable<void> ScalingReplicas(AutoscaleGlue* glue, http::Request& req,
                                      http::Responder& res) {
  std::shared_ptr<autoscale::Controller> c = glue->controller();
  if (!c) {
    co_await res.Send(503, "application/json", NotRunningJson());
    co_return;
  }
  const std::optional<int> n = ReplicasFromBody(req.body);
  if (!n) {
    const std::string body =
        ErrorJson("the body must be {\"replicas\": N} with an integer N >= 0", "invalid_replicas");
    co_await res.Send(400, "application/json", body);
    co_return;
  }
  const int applied = c->RequestReplicas(*n, "admin");
  const std::string body = OverrideJson(*n, applied, c->config());
  co_await res.Send(202, "application/json", body);
}

}  // namespace

void AddAutoscaleFlags(CLI::App& app, AutoscaleFlags* f, bool for_route) {
  if (for_route) {
    app.add_flag("--autoscale", f->enabled, "run the autoscaler (scales a Kubernetes Deployment)");
    app.add_option("--min-workers", f->min_workers, "autoscaler floor")
        ->check(CLI::Range(0, 10000));
    app.add_option("--max-workers", f->max_workers, "autoscaler ceiling")
        ->check(CLI::Range(1, 10000));
    app.add_option("--scale-actuator", f->actuator, "how to scale: kubernetes")
        ->check(CLI::IsMember({"kubernetes"}));
    app.add_option("--scale-deployment", f->deployment, "the workers' Deployment");
    app.add_option("--scale-targets-dns", f->targets_dns,
                   "scrape every address of this headless Service, e.g. "
                   "http://dte-worker-pods:9001 (default: the router's healthy backends)");
  } else {
    app.add_flag("--no-autoscale", f->disabled, "keep MIN workers even when MAX > MIN");
  }
  app.add_option("--scale-policy", f->policy, "autoscaling policy: hpa or predictive")
      ->check(CLI::IsMember({"hpa", "predictive"}));
  app.add_option("--scale-period", f->period_s, "seconds between autoscaler decisions")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--scale-target", f->target, "target utilisation of a worker")
      ->check(CLI::Range(0.05, 1.0));
  app.add_option("--scale-max-batch", f->max_batch,
                 "sequences one worker runs at full speed, for the load score (default: the "
                 "workers' --max-batch, else 8)")
      ->check(CLI::Range(1.0, 1e6));
  app.add_option("--scale-up-window-s", f->up_window_s, "scale-up stabilization window")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--scale-down-window-s", f->down_window_s, "scale-down stabilization window")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--scale-up-cooldown-s", f->up_cooldown_s, "no scale-up this soon after one")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--scale-down-cooldown-s", f->down_cooldown_s,
                 "no scale-down this soon after any change")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--scale-lead-s", f->lead_s, "predictive: forecast this far ahead")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--scale-demand-smoothing-s", f->demand_smoothing_s,
                 "predictive: time constant of the demand average")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--scale-forecast-warmup-s", f->forecast_warmup_s,
                 "predictive: seconds before the forecast growth is believed")
      ->check(CLI::Range(0.0, 86400.0));
}

Result<autoscale::AutoscalerConfig> MakeAutoscalerConfig(const AutoscaleFlags& f, int min_replicas,
                                                         int max_replicas) {
  autoscale::AutoscalerConfig c;
  Result<autoscale::PolicyKind> policy = autoscale::ParsePolicy(f.policy);
  if (!policy.ok()) return policy.status();
  c.policy = *policy;
  c.min_replicas = min_replicas;
  c.max_replicas = max_replicas;
  c.target_utilization = f.target;
  if (f.max_batch > 0) c.max_batch = f.max_batch;
  auto set = [](double flag, double* field) {
    if (flag >= 0) *field = flag;
  };
  set(f.up_window_s, &c.scale_up_window_s);
  set(f.down_window_s, &c.scale_down_window_s);
  set(f.up_cooldown_s, &c.scale_up_cooldown_s);
  set(f.down_cooldown_s, &c.scale_down_cooldown_s);
  set(f.lead_s, &c.lead_s);
  set(f.demand_smoothing_s, &c.demand_smoothing_s);
  set(f.forecast_warmup_s, &c.forecast_warmup_s);
  // The thresholds bracket the target (the prototype's 30 % / 80 % around 60 %).
  c.scale_up_threshold = std::max(c.scale_up_threshold, std::min(1.0, c.target_utilization + 0.1));
  c.scale_down_threshold = std::min(c.scale_down_threshold, c.target_utilization / 2);
  if (Status s = autoscale::ValidateConfig(c); !s.ok()) return s;
  return c;
}

double MaxBatchFromArgs(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--max-batch" && i + 1 < args.size())
      value = args[i + 1];
    else if (args[i].starts_with("--max-batch="))
      value = args[i].substr(12);
    else
      continue;
    try {
      const double n = std::stod(value);
      return n > 0 ? n : -1;
    } catch (const std::exception&) {
      return -1;
    }
  }
  return -1;
}

std::vector<std::string> HealthyBackendUrls(router::BackendPool& pool) {
  std::vector<std::string> urls;
  for (const router::BackendSnapshot& b : pool.Snapshot())
    if (b.healthy && b.state != "draining") urls.push_back(b.url);
  return urls;
}

AutoscaleGlue::AutoscaleGlue(autoscale::AutoscalerConfig config, double period_s)
    : config_(std::move(config)), period_s_(period_s) {}

Result<std::unique_ptr<AutoscaleGlue>> AutoscaleGlue::FromFlags(const AutoscaleFlags& flags,
                                                                int min_replicas, int max_replicas,
                                                                router::RouterOptions* options) {
  if (!flags.enabled || flags.disabled) return std::unique_ptr<AutoscaleGlue>();
  Result<autoscale::AutoscalerConfig> config =
      MakeAutoscalerConfig(flags, min_replicas, max_replicas);
  if (!config.ok()) return config.status();
  auto glue = std::make_unique<AutoscaleGlue>(std::move(*config), flags.period_s);
  glue->MountRoutes(options);
  return glue;
}

AutoscaleGlue::~AutoscaleGlue() { Stop(); }

void AutoscaleGlue::MountRoutes(router::RouterOptions* options) {
  std::function<void(http::Router&)> previous = std::move(options->extra_routes);
  options->extra_routes = [this, previous](http::Router& r) {
    if (previous) previous(r);
    r.Get("/v1/scaling/status", [this](http::Request& req, http::Responder& res) {
      return ScalingStatus(this, req, res);
    });
    r.Get("/v1/scaling/events", [this](http::Request& req, http::Responder& res) {
      return ScalingEvents(this, req, res);
    });
    r.Post("/v1/scaling/replicas", [this](http::Request& req, http::Responder& res) {
      return ScalingReplicas(this, req, res);
    });
  };
}

void AutoscaleGlue::Start(router::RouterService& router,
                          std::unique_ptr<autoscale::Actuator> actuator,
                          autoscale::TargetsFn targets) {
  DTE_CHECK(!started_, "AutoscaleGlue started twice");
  started_ = true;
  actuator_ = std::move(actuator);
  autoscale::ControllerOptions options;
  options.period_s = period_s_;
  auto controller = std::make_shared<autoscale::Controller>(
      router.io_context().get_executor(), config_, *actuator_, std::move(targets), options);
  controller->Start();
  std::lock_guard lock(mu_);
  controller_ = std::move(controller);
  LogInfo("autoscaler: policy " + std::string(autoscale::PolicyName(config_.policy)) + ", " +
          std::to_string(config_.min_replicas) + ".." + std::to_string(config_.max_replicas) +
          " workers, actuator " + std::string(actuator_->name()) + ", every " +
          json(period_s_).dump() + " s");
}

void AutoscaleGlue::StartLocal(router::RouterService& router,
                               router::LocalWorkerSupervisor& supervisor) {
  autoscale::BlockingWorkerHooks hooks{
      .count = [&supervisor] { return static_cast<int>(supervisor.size()); },
      .spawn_one = [&supervisor]() -> Status { return supervisor.Spawn().status(); },
      .stop_one = [&supervisor]() -> Status {
        return supervisor.StopOne(/*drain=*/true).status();
      }};
  router::BackendPool& pool = router.pool();
  Start(router, std::make_unique<autoscale::BackgroundProcessActuator>(std::move(hooks)),
        [&pool] { return HealthyBackendUrls(pool); });
}

Status AutoscaleGlue::StartForRoute(router::RouterService& router, const AutoscaleFlags& flags) {
  auto actuator = autoscale::KubernetesActuator::Create(
      router.io_context().get_executor(),
      autoscale::KubernetesOptionsFromEnvironment(flags.deployment));
  if (!actuator.ok()) return actuator.status();
  autoscale::TargetsFn targets;
  if (!flags.targets_dns.empty()) {
    auto dns = autoscale::DnsTargets::Create(flags.targets_dns, std::chrono::seconds(5));
    if (!dns.ok()) return dns.status();
    dns_ = std::move(*dns);
    targets = [dns = dns_.get()] { return dns->List(); };
  } else {
    router::BackendPool& pool = router.pool();
    targets = [&pool] { return HealthyBackendUrls(pool); };
  }
  Start(router, std::move(*actuator), std::move(targets));
  return Status::Ok();
}

std::shared_ptr<autoscale::Controller> AutoscaleGlue::controller() const {
  std::lock_guard lock(mu_);
  return controller_;
}

void AutoscaleGlue::Stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  std::shared_ptr<autoscale::Controller> controller;
  {
    std::lock_guard lock(mu_);
    controller.swap(controller_);
  }
  controller->Stop();  // the loop ends; the executor still runs
  // Wait for a handler that still holds it (an override just posted), so that the actuator the
  // loop refers to goes after it.
  while (controller.use_count() > 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  controller.reset();
  actuator_.reset();  // a BackgroundProcessActuator waits for its round of spawns/stops
}

}  // namespace dte::cli
