#include "router/observability.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/log.h"
#include "base/mapped_file.h"
#include "http/client.h"
#include "router/fleet_metrics.h"
#include "telemetry/dashboard_summary.h"
#include "telemetry/web_assets.h"

#ifndef DTE_DEFAULT_WEB_DIR
#define DTE_DEFAULT_WEB_DIR "web/dashboard"
#endif

namespace dte::router {

namespace asio = boost::asio;
using json = nlohmann::json;

struct RouterObservability::LoopState {
  explicit LoopState(asio::io_context& io) : executor(io.get_executor()), timer(io) {}
  asio::any_io_executor executor;
  asio::steady_timer timer;  // touched on the io_context only (Stop posts)
  std::atomic<bool> stopped{false};
  RouterObservability* self = nullptr;
  BackendPool* pool = nullptr;
  RouterMetrics* metrics = nullptr;
  std::map<std::string, std::shared_ptr<http::Client>> clients;  // loop coroutine only
  FleetTracker tracker;                                          // loop coroutine only
  std::mutex mu;
  std::map<std::string, WorkerGauges> gauges;  // last scrape per backend; guarded by mu
};

namespace {

std::string ErrorJson(std::string_view message, std::string_view code) {
  return json{{"error",
               {{"message", message},
                {"type", "invalid_request_error"},
                {"param", nullptr},
                {"code", code}}}}
      .dump();
}

int64_t UnixMillisNow() { return UnixNanosNow() / 1'000'000; }

asio::awaitable<void> Tick(std::shared_ptr<RouterObservability::LoopState> s) {
  std::map<std::string, std::vector<PromSample>> scraped;
  std::shared_ptr<const BackendPool::Backends> all = s->pool->All();
  std::map<std::string, std::shared_ptr<http::Client>> clients;
  for (const auto& b : *all) {
    auto it = s->clients.find(b->url());
    std::shared_ptr<http::Client> client;
    if (it != s->clients.end()) {
      client = it->second;
    } else {
      http::ClientOptions co;
      co.connect_timeout = std::chrono::milliseconds(1000);
      co.io_timeout = std::chrono::milliseconds(2000);
      co.max_idle_connections = 1;
      client =
          std::make_shared<http::Client>(s->executor, b->address().host, b->address().port, co);
    }
    clients.emplace(b->url(), client);
  }
  s->clients.swap(clients);
  for (const auto& [url, client] : s->clients) {
    Result<http::ClientResponse> r = co_await client->Request("GET", "/metrics");
    if (s->stopped) co_return;
    if (r.ok() && r->status == 200) scraped[url] = ParsePromText(r->body);
  }
  const FleetSnapshot snap = s->tracker.Update(
      SteadyClock::now(), scraped, s->metrics->total_requests(), s->metrics->failed_requests());
  {
    std::lock_guard lock(s->mu);
    s->gauges = snap.workers;
  }
  RouterObservability* self = s->self;
  std::vector<AlertNotification> due =
      self->alerts().Evaluate(std::chrono::system_clock::now(), snap.alert);
  for (const AlertNotification& n : due) {
    LogInfo(std::string("dte route: alert ") + n.alert.name +
            (n.resolved ? " resolved" : " firing") + ": " + n.alert.description);
  }
  self->Notify(due);
  DashboardSample sample = snap.dashboard;
  sample.workers = static_cast<double>(all->size());
  RecordDashboardSample(self->history(), UnixMillisNow(), sample);
}

asio::awaitable<void> Loop(std::shared_ptr<RouterObservability::LoopState> s,
                           std::chrono::milliseconds interval) {
  while (!s->stopped) {
    s->timer.expires_after(interval);
    auto [ec] = co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (s->stopped) break;
    (void)ec;
    try {
      co_await Tick(s);
    } catch (const std::exception& e) {
      LogWarning(std::string("dte route: alert evaluation failed: ") + e.what());
    }
  }
}

}  // namespace

Result<std::unique_ptr<RouterObservability>> RouterObservability::Create(
    ObservabilityOptions options, prometheus::Registry* registry) {
  AlertConfig config;
  config.service = "dte-router";
  if (!options.alert_config_path.empty()) {
    Result<std::string> text = ReadFileToString(options.alert_config_path);
    if (!text.ok()) return text.status();
    const json j = json::parse(*text, nullptr, false);
    if (j.is_discarded())
      return Status::InvalidArgument("--alert-config " + options.alert_config_path + ": not JSON");
    Result<AlertConfig> parsed = ParseAlertConfig(j, config);
    if (!parsed.ok()) return parsed.status();
    config = *parsed;
  }
  if (!(options.alert_interval_s > 0))
    return Status::InvalidArgument("the alert interval must be positive");
  TracingOptions to;
  to.service_name = "dte-router";
  to.sample_ratio = options.trace_sample_ratio;
  to.otlp_endpoint = options.otlp_endpoint;
  to.store.max_spans = options.trace_store_spans;
  Result<std::unique_ptr<Tracing>> tracing = Tracing::Create(to, registry);
  if (!tracing.ok()) return tracing.status();
  std::unique_ptr<AlertNotifier> notifier;
  if (!options.alert_webhook.empty()) {
    AlertWebhookOptions wo;
    wo.url = options.alert_webhook;
    Result<std::unique_ptr<AlertNotifier>> n = AlertNotifier::Create(wo, config, registry);
    if (!n.ok()) return n.status();
    notifier = std::move(*n);
  }
  if (options.dashboard_dir.empty()) options.dashboard_dir = DTE_DEFAULT_WEB_DIR;
  std::unique_ptr<RouterObservability> o(new RouterObservability(std::move(options)));
  o->tracing_ = std::move(*tracing);
  o->alerts_ = std::make_unique<AlertEvaluator>(config);
  o->notifier_ = std::move(notifier);
  return o;
}

RouterObservability::RouterObservability(ObservabilityOptions options)
    : options_(std::move(options)) {}

RouterObservability::~RouterObservability() { Stop(std::chrono::milliseconds(0)); }

void RouterObservability::Notify(const std::vector<AlertNotification>& due) {
  if (notifier_ && !due.empty()) notifier_->Notify(due);
}

void RouterObservability::Start(asio::io_context& io, BackendPool& pool, RouterMetrics& metrics) {
  loop_ = std::make_shared<LoopState>(io);
  loop_->self = this;
  loop_->pool = &pool;
  loop_->metrics = &metrics;
  const auto interval = std::chrono::milliseconds(
      std::max<int64_t>(1, static_cast<int64_t>(options_.alert_interval_s * 1000)));
  asio::co_spawn(io, Loop(loop_, interval), asio::detached);
}

void RouterObservability::Stop(std::chrono::milliseconds deadline) {
  if (stopped_) return;
  stopped_ = true;
  if (loop_ && !loop_->stopped.exchange(true)) {
    auto s = loop_;
    asio::post(s->executor, [s] { s->timer.cancel(); });
  }
  if (tracing_) tracing_->Shutdown(deadline);
  if (notifier_) notifier_->Flush(deadline);
}

json RouterObservability::WorkersJson() const {
  json workers = json::array();
  if (!loop_) return workers;
  std::map<std::string, WorkerGauges> gauges;
  {
    std::lock_guard lock(loop_->mu);
    gauges = loop_->gauges;
  }
  for (const BackendSnapshot& b : loop_->pool->Snapshot()) {
    json w = {{"id", b.url},
              {"url", b.url},
              {"state", b.state},
              {"healthy", b.healthy},
              {"outstanding", b.outstanding},
              {"active_sequences", nullptr},
              {"queue_depth", nullptr}};
    if (auto it = gauges.find(b.url); it != gauges.end()) {
      if (it->second.active_sequences) w["active_sequences"] = *it->second.active_sequences;
      if (it->second.queue_depth) w["queue_depth"] = *it->second.queue_depth;
    }
    workers.push_back(std::move(w));
  }
  return workers;
}

std::string RouterObservability::SummaryJson() const {
  const int64_t interval_ms = static_cast<int64_t>(options_.alert_interval_s * 1000);
  return RenderDashboardSummary(history_, UnixMillisNow(), interval_ms, alerts_.get(),
                                &tracing_->store(), WorkersJson());
}

void RouterObservability::AddRoutes(http::Router& r) {
  r.Get("/v1/traces", [this](http::Request& req, http::Responder& res) -> asio::awaitable<void> {
    const std::string_view target = req.target;
    const size_t q = target.find('?');
    const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
    Result<TraceQuery> parsed = ParseTraceQuery(query);
    if (!parsed.ok()) {
      const std::string body = ErrorJson(parsed.status().message(), "invalid_query");
      co_await res.Send(400, "application/json", body);
      co_return;
    }
    const std::string body = RenderTraceList(tracing_->store(), *parsed);
    co_await res.Send(200, "application/json", body);
  });
  r.Get("/v1/traces/{id}",
        [this](http::Request& req, http::Responder& res) -> asio::awaitable<void> {
          Result<std::string> body = RenderTrace(tracing_->store(), req.PathParam("id"));
          if (!body.ok()) {
            const int code = body.status().code() == StatusCode::kNotFound ? 404 : 400;
            const std::string err = ErrorJson(body.status().message(), "trace_not_found");
            co_await res.Send(code, "application/json", err);
            co_return;
          }
          co_await res.Send(200, "application/json", std::move(*body));
        });
  r.Get("/v1/alerts", [this](http::Request&, http::Responder& res) -> asio::awaitable<void> {
    const std::string body = alerts_->ToJson().dump();
    co_await res.Send(200, "application/json", body);
  });
  r.Get("/v1/dashboard/summary",
        [this](http::Request&, http::Responder& res) -> asio::awaitable<void> {
          const std::string body = SummaryJson();
          co_await res.Send(200, "application/json", body);
        });
  auto asset = [this](http::Request& req, http::Responder& res) -> asio::awaitable<void> {
    const std::string file(req.PathParam("file"));
    const std::string path = file.empty() ? std::string() : "/" + file;
    Result<WebAsset> a = ReadWebAsset(options_.dashboard_dir, path);
    if (!a.ok()) {
      const int code = a.status().code() == StatusCode::kNotFound ? 404 : 400;
      const std::string err = ErrorJson(a.status().message(), "not_found");
      co_await res.Send(code, "application/json", err);
      co_return;
    }
    co_await res.Send(200, a->content_type, std::move(a->body));
  };
  r.Get("/dashboard", asset);
  r.Get("/dashboard/{file}", asset);
}

}  // namespace dte::router
