#pragma once
// The HTTP API of one worker: OpenAI-compatible completions and chat (streamed or not),
// models, sessions, the state cache (stats, clear), health, readiness and metrics. Handlers are
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
  ApiService(Engine& engine, WorkerMetrics& metrics, ApiOptions options);

  // All routes, ready for http::Server.
  http::Router MakeRouter();
  // The label a request path gets in metrics (its route pattern; "other" for unknown paths).
  static std::string RouteLabel(std::string_view method, std::string_view path);
  // /ready answers 503 once draining.
  void SetDraining() { draining_.store(true); }

 private:
  using Awaitable = http::asio::awaitable<void>;
  Awaitable Generate(ApiKind kind, http::Request& req, http::Responder& res);
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
  std::atomic<bool> draining_{false};
};

// Sends an OpenAI-shaped error (adds Retry-After to 429 and 503).
http::asio::awaitable<void> SendError(http::Responder& res, const ApiError& error);
http::asio::awaitable<void> SendJson(http::Responder& res, int status, std::string body);

}  // namespace dte::server
