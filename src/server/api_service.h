#pragma once
// The HTTP API of one worker: OpenAI-compatible completions and chat (streamed or not),
// models, sessions, the state cache (stats, clear), health, readiness, metrics and, with
// tracing, recent traces (GET /v1/traces, /v1/traces/{id}). Generation requests get a
// `worker.request` span (child of the caller's `traceparent`) with the engine's spans under it
// (request_spans.h), and write their own JSON request log line (telemetry/request_log.h);
// LogsItself tells the server's request-log callback which requests those are. Handlers are
// coroutines on the connection's executor; they hand generation to the Engine and wait for its
// TokenChannel through an AsyncNotifier (no polling), and cancel the sequence when their client
// goes away.

#include <atomic>
#include <string>

#include "engine/engine.h"
#include "http/handler.h"
#include "http/router.h"
#include "server/api_request.h"
#include "server/chat_template.h"
#include "server/worker_metrics.h"
#include "telemetry/tracing.h"

namespace dte::server {

struct ApiOptions {
  std::string model_name = "rwkv";  // what clients pass as "model"
  ApiLimits limits;
  ChatTemplate chat_template;
  std::vector<int32_t> stop_tokens;  // always stop on these (e.g. World's end-of-text id 0)
  std::string admin_token;           // admin endpoints: empty = loopback clients only
};

class ApiService {
 public:
  // `tracing` (may be null: no spans, no trace routes) must outlive the service.
  ApiService(Engine& engine, WorkerMetrics& metrics, ApiOptions options,
             const Tracing* tracing = nullptr);

  // All routes, ready for http::Server.
  http::Router MakeRouter();
  // The label a request path gets in metrics (its route pattern; "other" for unknown paths).
  static std::string RouteLabel(std::string_view method, std::string_view path);
  // True for the generation routes, whose handler logs its own request line (with trace id,
  // tokens and timings); the server's request-log callback logs the others.
  static bool LogsItself(std::string_view method, std::string_view path);
  // /ready answers 503 once draining.
  void SetDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  struct GenerationOutcome;  // what a generation request came to (generation_handler.cc)

 private:
  using Awaitable = http::asio::awaitable<void>;
  Awaitable Generate(ApiKind kind, http::Request& req, http::Responder& res);
  Awaitable GenerateBody(ApiKind kind, http::Request& req, http::Responder& res,
                         GenerationOutcome& out);
  Awaitable Traces(http::Request& req, http::Responder& res);
  Awaitable Trace(http::Request& req, http::Responder& res);
  Awaitable Models(http::Request& req, http::Responder& res);
  Awaitable Model(http::Request& req, http::Responder& res);
  Awaitable CreateSession(http::Request& req, http::Responder& res);
  Awaitable GetSession(http::Request& req, http::Responder& res);
  Awaitable DeleteSession(http::Request& req, http::Responder& res);
  Awaitable CacheStats(http::Request& req, http::Responder& res);
  Awaitable CacheClear(http::Request& req, http::Responder& res);
  Awaitable Health(http::Request& req, http::Responder& res);
  Awaitable Ready(http::Request& req, http::Responder& res);
  Awaitable Metrics(http::Request& req, http::Responder& res);

  Engine& engine_;
  WorkerMetrics& metrics_;
  const ApiOptions options_;
  const bool generation_prompt_starts_replies_;  // for the chat template's checkpoints
  const Tracing* const tracing_;
  std::atomic<bool> draining_{false};
};

// Sends an OpenAI-shaped error (adds Retry-After to 429 and 503).
http::asio::awaitable<void> SendError(http::Responder& res, const ApiError& error);
http::asio::awaitable<void> SendJson(http::Responder& res, int status, std::string body);

}  // namespace dte::server
