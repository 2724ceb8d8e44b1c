// dte route: the load balancer in front of `dte serve` workers (see router/router_service.h).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/log.h"
#include "cli/autoscale_glue.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "router/router_service.h"

namespace dte::cli {
namespace {

// "host:port", ":port" or "port".
bool ParseListen(const std::string& text, router::RouterOptions* o) {
  const size_t colon = text.rfind(':');
  const std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  if (colon != std::string::npos && colon > 0) o->host = text.substr(0, colon);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5)
    return false;
  const int p = std::stoi(port);
  if (p > 65535) return false;
  o->port = static_cast<uint16_t>(p);
  return true;
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int RunRouteCommand(int argc, char** argv) {
  CLI::App app("Balance requests over dte serve workers", "dte route");
  router::RouterOptions o;
  std::string listen = "127.0.0.1:8080", backends, log_level = "info";
  int64_t interval_ms = o.health.interval.count(), timeout_ms = o.health.timeout.count();
  int64_t open_ms = o.pool.breaker.open_duration.count(), drain_s = 30;
  app.add_option("--listen", listen, "address:port to listen on (port 0: any free port)");
  app.add_option("--backends", backends,
                 "comma-separated worker URLs, e.g. http://127.0.0.1:9001,http://127.0.0.1:9002");
  app.add_option("--policy", o.policy,
                 "auto, round_robin, least_outstanding, p2c, session_affinity or prefix")
      ->check(CLI::IsMember(router::PolicyNames()));
  app.add_option("--affinity-load-factor", o.affinity.load_factor,
                 "bounded load: a key's home takes it while its load <= factor x mean")
      ->check(CLI::Range(1.0, 100.0));
  app.add_option("--prefix-min-match", o.prefix.min_match_ratio,
                 "share of the prompt a cached prefix must cover to be followed")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--prefix-balance-abs", o.prefix.balance_abs_threshold,
                 "load fall-back when max - min outstanding exceeds this ...")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--prefix-balance-rel", o.prefix.balance_rel_threshold, "... and max > this x min")
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--io-threads", o.io_threads, "HTTP threads")->check(CLI::Range(1, 64));
  app.add_option("--probe-interval-ms", interval_ms, "active /ready probe period")
      ->check(CLI::Range(10, 600000));
  app.add_option("--probe-timeout-ms", timeout_ms, "probe timeout")->check(CLI::Range(10, 600000));
  app.add_option("--probe-fall", o.health.fall, "failed probes that eject a backend")
      ->check(CLI::Range(1, 100));
  app.add_option("--probe-rise", o.health.rise, "good probes that re-admit it")
      ->check(CLI::Range(1, 100));
  app.add_option("--breaker-failures", o.pool.breaker.failure_threshold,
                 "consecutive failures that open the breaker")
      ->check(CLI::Range(1, 1000));
  app.add_option("--breaker-open-ms", open_ms, "first open period of the breaker")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--max-attempts", o.proxy.max_attempts, "tries per request, first one included")
      ->check(CLI::Range(1, 10));
  app.add_option("--retry-ratio", o.retry_budget.ratio, "retry budget as a fraction of requests")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--drain-timeout", drain_s, "seconds to finish in-flight requests on SIGTERM")
      ->check(CLI::Range(0, 3600));
  router::ObservabilityOptions& obs = o.observability;
  app.add_option("--otlp-endpoint", obs.otlp_endpoint,
                 "OTLP/HTTP JSON trace endpoint, e.g. http://127.0.0.1:4318/v1/traces");
  app.add_option("--trace-sample-ratio", obs.trace_sample_ratio,
                 "share of new traces recorded (a client's traceparent decides for its trace)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--trace-store-spans", obs.trace_store_spans,
                 "finished spans kept in memory for GET /v1/traces")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--alert-interval-s", obs.alert_interval_s,
                 "seconds between metric scrapes, alert evaluations and dashboard samples")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--alert-webhook", obs.alert_webhook,
                 "URL that receives alert notifications (Alertmanager webhook JSON)");
  app.add_option("--alert-config", obs.alert_config_path, "JSON file with alert thresholds");
  app.add_option("--dashboard-dir", obs.dashboard_dir, "directory of the /dashboard files");
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}));
  AutoscaleFlags scale;
  AddAutoscaleFlags(app, &scale, /*for_route=*/true);
  CLI11_PARSE(app, argc, argv);
  SetLogLevel(log_level == "debug"     ? LogLevel::kDebug
              : log_level == "warning" ? LogLevel::kWarning
              : log_level == "error"   ? LogLevel::kError
                                       : LogLevel::kInfo);
  if (!ParseListen(listen, &o))
    return Fail("route", Status::InvalidArgument("bad --listen '" + listen + "'"));
  o.backends = SplitComma(backends);
  o.health.interval = std::chrono::milliseconds(interval_ms);
  o.health.timeout = std::chrono::milliseconds(timeout_ms);
  o.pool.breaker.open_duration = std::chrono::milliseconds(open_ms);

  auto glue = AutoscaleGlue::FromFlags(scale, scale.min_workers, scale.max_workers, &o);
  if (!glue.ok()) return Fail("route", glue.status());
  auto service = router::RouterService::Create(o);
  if (!service.ok()) return Fail("route", service.status());
  if (Status s = (*service)->Start(); !s.ok()) return Fail("route", s);
  if (*glue)
    if (Status s = (*glue)->StartForRoute(**service, scale); !s.ok()) return Fail("route", s);
  LogInfo("dte route: policy " + o.policy + ", " + std::to_string(o.backends.size()) +
          " backends, listening on http://" + o.host + ":" + std::to_string((*service)->port()));
  std::printf("listening on http://%s:%u\n", o.host.c_str(),
              static_cast<unsigned>((*service)->port()));
  std::fflush(stdout);
  (*service)->WaitForStop();
  LogInfo("dte route: draining");
  if (*glue) (*glue)->Stop();
  (*service)->Shutdown(std::chrono::seconds(drain_s));
  LogInfo("dte route: bye");
  return 0;
}

const RegisterCommand kRegister("route", "balance requests over dte serve workers",
                                RunRouteCommand);

}  // namespace
}  // namespace dte::cli
