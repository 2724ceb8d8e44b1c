#include "router/router_service.h"

#include <boost/asio/post.hpp>
#include <csignal>
#include <nlohmann/json.hpp>

#include "base/log.h"

namespace dte::router {
namespace {

using json = nlohmann::json;

// JSON is built outside coroutines (GCC 12 and braced initializers in coroutines).
std::string ErrorJson(std::string_view message, std::string_view code) {
  return json{{"error",
               {{"message", message},
                {"type", "invalid_request_error"},
                {"param", nullptr},
                {"code", code}}}}
      .dump();
}

std::string BackendsJson(std::string_view policy, const std::vector<BackendSnapshot>& backends) {
  json list = json::array();
  for (const BackendSnapshot& b : backends) {
    list.push_back({{"url", b.url},
                    {"healthy", b.healthy},
                    {"state", b.state},
                    {"outstanding", b.outstanding},
                    {"requests", b.requests},
                    {"errors", b.errors}});
  }
  return json{{"object", "list"}, {"policy", policy}, {"data", list}}.dump();
}

// The body of POST /v1/backends: {"url": "http://host:port"}; empty when malformed.
std::string UrlFromBody(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) return {};
  return j["url"].get<std::string>();
}

int StatusToHttp(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
      return 409;
    default:
      return 400;
  }
}

const char* const kProxiedGetPost[] = {"/v1/sessions/{id}", "/v1/sessions/{id}/{action}",
                                       "/v1/cache", "/v1/cache/{a}", "/v1/cache/{a}/{b}"};

}  // namespace

Result<std::unique_ptr<RouterService>> RouterService::Create(RouterOptions options) {
  Result<std::unique_ptr<Policy>> policy =
      MakePolicy(options.policy, options.affinity, options.prefix);
  if (!policy.ok()) return policy.status();
  for (const std::string& url : options.backends) {
    if (Result<BackendAddress> a = ParseBackendUrl(url); !a.ok()) return a.status();
  }
  std::unique_ptr<RouterService> service(new RouterService(std::move(options)));
  if (!service->init_status_.ok()) return service->init_status_;
  service->policy_ = std::move(*policy);
  service->proxy_ = std::make_unique<Proxy>(*service->pool_, *service->policy_, service->budget_,
                                            service->metrics_, service->options_.proxy);
  service->proxy_->SetTelemetry(&service->observability_->tracer(),
                                service->options_.observability.log_requests);
  Policy* policy_ptr = service->policy_.get();
  Proxy* proxy_ptr = service->proxy_.get();
  service->pool_->SetRemovalListener([policy_ptr, proxy_ptr](const std::string& url) {
    policy_ptr->OnBackendRemoved(url);
    proxy_ptr->pins().ForgetBackend(url);
  });
  for (const std::string& url : service->options_.backends) {
    if (Status s = service->pool_->AddBackend(url); !s.ok()) return s;
  }
  RouterMetrics* metrics = &service->metrics_;
  service->health_ = std::make_unique<HealthChecker>(
      service->server_->io_context().get_executor(), *service->pool_, service->options_.health,
      [metrics](const std::string& url, bool healthy) {
        if (!healthy) metrics->CountEjection(url, "probe");
      });
  return service;
}

RouterService::RouterService(RouterOptions options)
    : options_(std::move(options)), budget_(options_.retry_budget) {
  Result<std::unique_ptr<RouterObservability>> obs =
      RouterObservability::Create(options_.observability, &metrics_.registry());
  if (obs.ok()) {
    observability_ = std::move(*obs);
  } else {
    init_status_ = obs.status();
    // A valid object so that the routes can be built; Create() then reports the error.
    observability_ = std::move(RouterObservability::Create(ObservabilityOptions{}, nullptr)).value();
  }
  http::ServerOptions so;
  so.address = options_.host;
  so.port = options_.port;
  so.io_threads = options_.io_threads;
  so.body_limit = options_.body_limit;
  so.idle_timeout = std::chrono::milliseconds(60'000);
  // Generations can take long before a non-streamed response starts; the transport's own
  // write timeout still guards a client that stops reading.
  so.error_body = [](int status, std::string_view message, std::string_view code) {
    return http::ErrorBody{"application/json", ErrorJson(message, code)};
  };
  server_ = std::make_unique<http::Server>(so, MakeRouter());
  pool_ = std::make_unique<BackendPool>(server_->io_context().get_executor(), options_.pool);
}

RouterService::~RouterService() {
  Shutdown(std::chrono::milliseconds(0));
  // Drop the backends (and their idle sockets) while the io_context still exists.
  health_.reset();
  proxy_.reset();
  observability_.reset();
  pool_.reset();
}

http::Router RouterService::MakeRouter() {
  http::Router r;
  // The route pattern is a string literal: it outlives every request.
  auto proxy_for = [this](const char* route) {
    return [this, route](http::Request& req, http::Responder& res) {
      return proxy_->Handle(req, res, route);
    };
  };
  auto bind = [this](auto method) {
    return [this, method](http::Request& req, http::Responder& res) {
      return (this->*method)(req, res);
    };
  };
  r.Post("/v1/completions", proxy_for("/v1/completions"));
  r.Post("/v1/chat/completions", proxy_for("/v1/chat/completions"));
  r.Get("/v1/models", proxy_for("/v1/models"));
  r.Get("/v1/models/{id}", proxy_for("/v1/models/{id}"));
  r.Post("/v1/sessions", proxy_for("/v1/sessions"));
  r.Get("/v1/sessions", proxy_for("/v1/sessions"));
  for (const char* pattern : kProxiedGetPost) {
    r.Get(pattern, proxy_for(pattern));
    r.Post(pattern, proxy_for(pattern));
    r.Delete(pattern, proxy_for(pattern));
  }
  observability_->AddRoutes(r);
  r.Get("/v1/backends", bind(&RouterService::ListBackends));
  r.Post("/v1/backends", bind(&RouterService::AddBackend));
  r.Delete("/v1/backends", bind(&RouterService::RemoveBackend));
  r.Get("/health", [](http::Request&, http::Responder& res) -> asio::awaitable<void> {
    const std::string body = R"({"status":"ok"})";
    co_await res.Send(200, "application/json", body);
  });
  r.Get("/ready", bind(&RouterService::Ready));
  r.Get("/metrics", bind(&RouterService::Metrics));
  if (options_.extra_routes) options_.extra_routes(r);
  return r;
}

Status RouterService::Start() {
  signals_ = std::make_unique<boost::asio::signal_set>(server_->io_context(), SIGINT, SIGTERM);
  signals_->async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) RequestStop();
  });
  if (Status s = server_->Start(); !s.ok()) return s;
  health_->Start();
  observability_->Start(server_->io_context(), *pool_, metrics_);
  return Status::Ok();
}

void RouterService::WaitForStop() {
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait(lock, [&] { return stop_; });
}

void RouterService::RequestStop() {
  std::lock_guard lock(stop_mu_);
  stop_ = true;
  stop_cv_.notify_all();
}

bool RouterService::stop_requested() const {
  std::lock_guard lock(stop_mu_);
  return stop_;
}

void RouterService::Shutdown(std::chrono::milliseconds drain_timeout) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->BeginDrain();
  if (drain_timeout.count() > 0 && !server_->WaitDrained(drain_timeout)) {
    LogWarning("dte route: drain timed out; in-flight requests are cut");
  }
  if (health_) health_->Stop();
  server_->Stop();
  // Spans of the drained requests are finished: flush them (and pending alert notifications).
  observability_->Stop(std::chrono::milliseconds(std::max<int64_t>(drain_timeout.count(), 2000)));
  signals_.reset();  // the loop is stopped: its pending wait is dropped with it
}

asio::awaitable<void> RouterService::ListBackends(http::Request&, http::Responder& res) {
  const std::string body = BackendsJson(policy_->name(), pool_->Snapshot());
  co_await res.Send(200, "application/json", body);
}

asio::awaitable<void> RouterService::AddBackend(http::Request& req, http::Responder& res) {
  const std::string url = UrlFromBody(req.body);
  Status s = url.empty()
                 ? Status::InvalidArgument("the body must be {\"url\": \"http://host:port\"}")
                 : pool_->AddBackend(url);
  if (!s.ok()) {
    const std::string body = ErrorJson(s.message(), "invalid_backend");
    co_await res.Send(StatusToHttp(s), "application/json", body);
    co_return;
  }
  LogInfo("dte route: added backend " + url);
  const std::string body = BackendsJson(policy_->name(), pool_->Snapshot());
  co_await res.Send(201, "application/json", body);
}

asio::awaitable<void> RouterService::RemoveBackend(http::Request& req, http::Responder& res) {
  const std::string url(req.Query("url").value_or(""));
  const bool drain = req.Query("drain").value_or("true") != "false";
  Status s = pool_->RemoveBackend(url, drain);
  if (!s.ok()) {
    const std::string body = ErrorJson(s.message(), "invalid_backend");
    co_await res.Send(StatusToHttp(s), "application/json", body);
    co_return;
  }
  LogInfo("dte route: removing backend " + url + (drain ? " (draining)" : ""));
  const std::string body = BackendsJson(policy_->name(), pool_->Snapshot());
  co_await res.Send(200, "application/json", body);
}

asio::awaitable<void> RouterService::Ready(http::Request&, http::Responder& res) {
  bool any = false;
  for (const auto& b : *pool_->All()) any = any || b->Eligible();
  if (server_->draining() || !any) {
    const std::string body =
        ErrorJson(server_->draining() ? "draining" : "no healthy backend", "not_ready");
    co_await res.Send(503, "application/json", body);
    co_return;
  }
  const std::string body = R"({"status":"ready"})";
  co_await res.Send(200, "application/json", body);
}

asio::awaitable<void> RouterService::Metrics(http::Request&, http::Responder& res) {
  const std::string body = metrics_.Serialize(pool_->Snapshot());
  co_await res.Send(200, "text/plain; version=0.0.4; charset=utf-8", body);
}

}  // namespace dte::router
