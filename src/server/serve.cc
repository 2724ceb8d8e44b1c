#include "server/serve.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "cache/tiered_cache.h"
#include "http/server.h"
#include "model/model_tokenizer.h"
#include "telemetry/request_log.h"
#include "telemetry/tracing.h"

namespace dte::server {
namespace {

// The request log line (telemetry/request_log.h) of a request whose handler does not write
// its own: everything but generations, and generations refused before their handler ran.
void LogHttpRequest(const http::RequestLogEntry& e) {
  RequestLogEntry entry;
  entry.component = "worker";
  entry.method = std::string(e.method);
  entry.route = ApiService::RouteLabel(e.method, e.path);
  if (entry.route == "other") entry.route = std::string(e.path);
  entry.status = e.status;
  entry.latency_ms = e.latency_s * 1000;
  if (e.cancelled) entry.error = "cancelled: the client went away";
  LogRequest(entry);
}

// World vocabularies end a document with token 0.
std::vector<int32_t> DefaultStopTokens(const Tokenizer& tokenizer) {
  if (tokenizer.kind() == "byte") return {};
  return {0};
}

// A cache namespace naming the weights: the served name, the shape and the file size, so two
// different files never share checkpoints while workers of one file do (e.g. through Redis).
std::string CacheModelId(const std::string& name, const Model& model, const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  return name + "|" + model.config().ToString() + "|" + std::to_string(ec ? 0 : size);
}

Result<std::shared_ptr<TieredCache>> OpenCache(const ServeCacheOptions& o) {
  TieredCacheOptions t;
  t.l1.capacity_bytes = o.ram_mb << 20;
  t.l1.policy = o.eviction;
  t.l1.ttl = o.ram_ttl;
  t.enable_l2 = o.compressed_mb > 0;
  t.l2.capacity_bytes = o.compressed_mb << 20;
  t.l2.policy = o.eviction;
  t.l2.ttl = o.compressed_ttl;
  if (!o.dir.empty()) {
    t.l3 = DiskTierOptions{};
    t.l3->dir = o.dir;
    t.l3->capacity_bytes = o.disk_mb << 20;
    t.l3->ttl = o.disk_ttl;
  }
  if (!o.redis_url.empty()) {
    t.redis = RedisTierOptions{};
    t.redis->url = o.redis_url;
    if (!o.redis_prefix.empty()) t.redis->key_prefix = o.redis_prefix;
    if (o.redis_ttl) t.redis->ttl = *o.redis_ttl;
  }
  DTE_ASSIGN_OR_RETURN(std::unique_ptr<TieredCache> cache, TieredCache::Open(t));
  return std::shared_ptr<TieredCache>(std::move(cache));
}

}  // namespace

int RunServe(const ServeOptions& options) {
  auto file = ReadModelFile(options.model_path);
  if (!file.ok()) return LogError(file.status().ToString()), 1;
  auto tokenizer = TokenizerForModel(*file, options.vocab_path);
  if (!tokenizer.ok()) return LogError(tokenizer.status().ToString()), 1;
  auto model = Model::FromFile(std::move(*file));
  if (!model.ok()) return LogError(model.status().ToString()), 1;

  ApiOptions api;
  api.model_name = options.model_name.empty() ? std::filesystem::path(options.model_path).stem().string()
                                              : options.model_name;
  api.limits = options.limits;
  api.stop_tokens = DefaultStopTokens(**tokenizer);
  if (!options.chat_template_path.empty()) {
    auto t = ChatTemplate::FromJsonFile(options.chat_template_path);
    if (!t.ok()) return LogError(t.status().ToString()), 1;
    api.chat_template = *t;
  }

  EngineOptions engine_options = options.engine;
  if (options.cache.enabled) {
    auto cache = OpenCache(options.cache);
    if (!cache.ok()) return LogError("state cache: " + cache.status().ToString()), 1;
    engine_options.cache.cache = *cache;
    engine_options.cache.model_id = CacheModelId(api.model_name, **model, options.model_path);
    engine_options.cache.checkpoint_interval = options.cache.checkpoint_interval;
    // With a shared tier, every turn is written so another worker can continue the session.
    engine_options.cache.session_write_through = (*cache)->has_redis();
  }
  api.admin_token = options.admin_token;

  WorkerMetrics metrics;
  metrics.SetQueueCapacity(engine_options.max_queue);
  TracingOptions tracing_options;
  tracing_options.service_name = "dte-worker";
  tracing_options.sample_ratio = options.tracing.sample_ratio;
  tracing_options.otlp_endpoint = options.tracing.otlp_endpoint;
  tracing_options.store.max_spans = options.tracing.store_spans;
  auto tracing = Tracing::Create(tracing_options, &metrics.registry());
  if (!tracing.ok()) return LogError("tracing: " + tracing.status().ToString()), 1;
  Engine engine(*model, std::shared_ptr<const Tokenizer>(std::move(*tokenizer)), engine_options,
                &metrics);
  ApiService service(engine, metrics, api, tracing->get());

  http::ServerOptions http_options;
  http_options.address = options.host;
  http_options.port = options.port;
  http_options.io_threads = options.io_threads;
  http_options.body_limit = options.body_limit;
  http_options.error_body = [](int status, std::string_view message, std::string_view code) {
    return http::ErrorBody{"application/json", ApiErrorJson(MakeApiError(status, std::string(message), std::nullopt,
                                                                          std::string(code)))};
  };
  http_options.request_log = [&metrics, &service](const http::RequestLogEntry& e) {
    metrics.ObserveRequest(ApiService::RouteLabel(e.method, e.path), e.status, e.latency_s);
    // Generation handlers log their own line (trace id, tokens); these statuses are the
    // connection's answers before a handler runs (timeout, oversized header or body, draining).
    const bool before_handler = e.status == 408 || e.status == 413 || e.status == 431 ||
                                (e.status == 503 && service.draining());
    if (!ApiService::LogsItself(e.method, e.path) || before_handler) LogHttpRequest(e);
  };
  http::Server server(http_options, service.MakeRouter());
  if (Status s = server.Start(); !s.ok()) return LogError(s.ToString()), 1;

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  boost::asio::signal_set signals(server.io_context(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv.notify_all();
  });
  LogInfo("dte serve: model '" + api.model_name + "' (" + engine.model().config().ToString() +
          ") listening on http://" + options.host + ":" + std::to_string(server.port()));
  std::printf("listening on http://%s:%u\n", options.host.c_str(), static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  {
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return stop; })) {
      engine.sessions().ExpireIdle();
      // Frees what the state cache's TTLs have expired without waiting for a lookup.
      if (engine_options.cache.cache) engine_options.cache.cache->ExpireDue();
    }
  }
  LogInfo("dte serve: draining (up to " + std::to_string(options.drain_timeout.count()) + " s)");
  service.SetDraining();
  server.BeginDrain();
  const bool drained = server.WaitDrained(options.drain_timeout);
  engine.Shutdown();  // with a state cache: sessions and RAM tiers written down (see
                      // Engine::Shutdown)
  server.Stop();
  (*tracing)->Shutdown(std::chrono::milliseconds(2000));  // flush spans still queued for OTLP
  LogInfo(drained ? "dte serve: drained, bye" : "dte serve: drain timed out; in-flight requests were cut");
  return 0;
}

}  // namespace dte::server
