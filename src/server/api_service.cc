#include "server/api_service.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <variant>

#include "server/api_response.h"
#include "server/generation_run.h"

namespace dte::server {
namespace {

using http::asio::awaitable;
using json = nlohmann::json;

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// JSON bodies are built in plain functions: GCC 12 miscompiles braced initializer lists
// inside coroutines ("array used as initializer").
std::string ModelJson(const std::string& name) {
  return json{{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "deep-tree-echo"}}
      .dump();
}

std::string ModelListJson(const std::string& name) {
  return json{{"object", "list"}, {"data", json::array({json::parse(ModelJson(name))})}}.dump();
}

std::string DeletedJson(const std::string& id) {
  return json{{"id", id}, {"object", "session.deleted"}, {"deleted", true}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

// The optional system prompt of POST /v1/sessions ({"system": ...} or {"system_prompt": ...}).
std::variant<std::string, ApiError> ParseSessionBody(const std::string& body_text) {
  std::string system;
  if (body_text.empty()) return system;
  json body = json::parse(body_text, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return MakeApiError(400, "the request body must be a JSON object");
  for (const char* key : {"system", "system_prompt"}) {
    if (!body.contains(key) || body[key].is_null()) continue;
    if (!body[key].is_string())
      return MakeApiError(400, std::string(key) + " must be a string", std::string(key));
    system = body[key].get<std::string>();
  }
  return system;
}

json SessionJson(const SessionInfo& s) {
  return {{"id", s.id},
          {"object", "session"},
          {"turns", s.turns},
          {"tokens", s.tokens},
          {"state_bytes", s.state_bytes},
          {"created", UnixSeconds(s.created)},
          {"last_used", UnixSeconds(s.last_used)},
          {"busy", s.busy}};
}

}  // namespace

awaitable<void> SendJson(http::Responder& res, int status, std::string body) {
  co_await res.Send(status, "application/json", std::move(body));
}

awaitable<void> SendError(http::Responder& res, const ApiError& error) {
  http::Headers headers;
  if (error.http_status == 429 || error.http_status == 503) headers.Add("Retry-After", "1");
  co_await res.Send(error.http_status, "application/json", ApiErrorJson(error), std::move(headers));
}

ApiService::ApiService(Engine& engine, WorkerMetrics& metrics, ApiOptions options,
                       const Tracing* tracing)
    : engine_(engine),
      metrics_(metrics),
      options_(std::move(options)),
      generation_prompt_starts_replies_(
          options_.chat_template.GenerationPromptStartsReplies(engine.tokenizer())),
      tracing_(tracing) {}

http::Router ApiService::MakeRouter() {
  http::Router r;
  auto bind = [this](auto method) {
    return [this, method](http::Request& req, http::Responder& res) {
      return (this->*method)(req, res);
    };
  };
  r.Post("/v1/completions", [this](http::Request& req, http::Responder& res) {
    return Generate(ApiKind::kCompletion, req, res);
  });
  r.Post("/v1/chat/completions", [this](http::Request& req, http::Responder& res) {
    return Generate(ApiKind::kChat, req, res);
  });
  r.Get("/v1/models", bind(&ApiService::Models));
  r.Get("/v1/models/{id}", bind(&ApiService::Model));
  r.Post("/v1/sessions", bind(&ApiService::CreateSession));
  r.Get("/v1/sessions/{id}", bind(&ApiService::GetSession));
  r.Delete("/v1/sessions/{id}", bind(&ApiService::DeleteSession));
  r.Get("/v1/cache/stats", bind(&ApiService::CacheStats));
  r.Post("/v1/cache/clear", bind(&ApiService::CacheClear));
  r.Get("/health", bind(&ApiService::Health));
  r.Get("/ready", bind(&ApiService::Ready));
  r.Get("/metrics", bind(&ApiService::Metrics));
  if (tracing_ != nullptr) {
    r.Get("/v1/traces", bind(&ApiService::Traces));
    r.Get("/v1/traces/{id}", bind(&ApiService::Trace));
  }
  return r;
}

std::string ApiService::RouteLabel(std::string_view method, std::string_view path) {
  static const char* kRoutes[] = {
      "/v1/completions", "/v1/chat/completions", "/v1/models", "/v1/sessions",
      "/v1/cache/stats", "/v1/cache/clear",      "/health",    "/ready",
      "/metrics",         "/v1/traces"};
  for (const char* r : kRoutes)
    if (path == r) return r;
  if (path.starts_with("/v1/traces/")) return "/v1/traces/{id}";
  if (path.starts_with("/v1/sessions/")) return "/v1/sessions/{id}";
  if (path.starts_with("/v1/models/")) return "/v1/models/{id}";
  return "other";
}

bool ApiService::LogsItself(std::string_view method, std::string_view path) {
  return method == "POST" && (path == "/v1/completions" || path == "/v1/chat/completions");
}

// GET /v1/traces[?limit=&min_duration_ms=&status=&name=] (telemetry/trace_store.h).
awaitable<void> ApiService::Traces(http::Request& req, http::Responder& res) {
  const std::string_view target = req.target;
  const size_t q = target.find('?');
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  Result<TraceQuery> parsed = ParseTraceQuery(query);
  if (!parsed.ok()) {
    const ApiError reply_error =
        MakeApiError(400, parsed.status().message(), std::nullopt, "invalid_query");
    co_await SendError(res, reply_error);
    co_return;
  }
  std::string list = RenderTraceList(tracing_->store(), *parsed);
  co_await SendJson(res, 200, std::move(list));
}

// GET /v1/traces/{id}: the spans of one trace (404 unknown or evicted, 400 malformed id).
awaitable<void> ApiService::Trace(http::Request& req, http::Responder& res) {
  Result<std::string> body = RenderTrace(tracing_->store(), req.PathParam("id"));
  if (!body.ok()) {
    const int code = body.status().code() == StatusCode::kNotFound ? 404 : 400;
    const ApiError reply_error = MakeApiError(code, body.status().message(), std::nullopt,
                                              code == 404 ? "trace_not_found" : "invalid_trace_id");
    co_await SendError(res, reply_error);
    co_return;
  }
  co_await SendJson(res, 200, std::move(*body));
}

awaitable<void> ApiService::Models(http::Request&, http::Responder& res) {
  co_await SendJson(res, 200, ModelListJson(options_.model_name));
}

awaitable<void> ApiService::Model(http::Request& req, http::Responder& res) {
  if (req.PathParam("id") != options_.model_name) {
    const ApiError reply_error =
        MakeApiError(404, "The model '" + std::string(req.PathParam("id")) + "' does not exist",
                     "model", "model_not_found");
    co_await SendError(res, reply_error);
    co_return;
  }
  co_await SendJson(res, 200, ModelJson(options_.model_name));
}

// POST /v1/sessions {"system": "..."}: a new session, with the system prompt already in its
// state (prefilled before the response, so the first turn starts from it).
awaitable<void> ApiService::CreateSession(http::Request& req, http::Responder& res) {
  auto parsed = ParseSessionBody(req.body);
  if (auto* error = std::get_if<ApiError>(&parsed)) {
    co_await SendError(res, *error);
    co_return;
  }
  const std::string system = std::get<std::string>(parsed);
  Result<std::string> id = engine_.CreateSession();
  if (!id.ok()) {
    const ApiError reply_error = ApiErrorFromStatus(id.status());
    co_await SendError(res, reply_error);
    co_return;
  }
  if (!system.empty()) {
    GenerationRequest prefill;
    prefill.prompt_tokens = engine_.tokenizer().Encode(options_.chat_template.RenderSystem(system));
    prefill.max_tokens = 0;
    prefill.session_id = *id;
    GenerationRun run(req);
    Status s = engine_.Submit(std::move(prefill), run.channel());
    std::optional<Completion> done;
    std::vector<TokenPiece> ignored;
    while (s.ok() && !done) done = co_await run.Next(&ignored);
    if (!s.ok() || done->reason != FinishReason::kLength) {
      (void)engine_.DeleteSession(*id);
      if (!s.ok()) {
        const ApiError reply_error = ApiErrorFromStatus(s);
        co_await SendError(res, reply_error);
        co_return;
      }
      if (done->reason == FinishReason::kError) {
        const ApiError reply_error = ApiErrorFromStatus(done->error);
        co_await SendError(res, reply_error);
        co_return;
      }
      co_return;  // cancelled: the client is gone
    }
  }
  std::optional<SessionInfo> info = engine_.sessions().Get(*id);
  if (!info) {
    const ApiError reply_error = MakeApiError(500, "the new session vanished");
    co_await SendError(res, reply_error);
    co_return;
  }
  std::string body = SessionJson(*info).dump(-1, ' ', false, json::error_handler_t::replace);
  co_await SendJson(res, 201, std::move(body));
}

awaitable<void> ApiService::GetSession(http::Request& req, http::Responder& res) {
  std::optional<SessionInfo> info = engine_.FindSession(std::string(req.PathParam("id")));
  if (!info) {
    const ApiError reply_error =
        MakeApiError(404, "no session '" + std::string(req.PathParam("id")) + "'", std::nullopt,
                     "session_not_found");
    co_await SendError(res, reply_error);
    co_return;
  }
  std::string body = SessionJson(*info).dump(-1, ' ', false, json::error_handler_t::replace);
  co_await SendJson(res, 200, std::move(body));
}

awaitable<void> ApiService::DeleteSession(http::Request& req, http::Responder& res) {
  const std::string id(req.PathParam("id"));
  Status s = engine_.DeleteSession(id);
  if (!s.ok()) {
    const ApiError reply_error = MakeApiError(404, s.message(), std::nullopt, "session_not_found");
    co_await SendError(res, reply_error);
    co_return;
  }
  co_await SendJson(res, 200, DeletedJson(id));
}

awaitable<void> ApiService::Health(http::Request&, http::Responder& res) {
  const std::string body = R"({"status":"ok"})";
  co_await SendJson(res, 200, body);
}

awaitable<void> ApiService::Ready(http::Request&, http::Responder& res) {
  if (draining_.load()) {
    const ApiError reply_error = MakeApiError(503, "draining", std::nullopt, "draining");
    co_await SendError(res, reply_error);
    co_return;
  }
  const std::string body = R"({"status":"ready"})";
  co_await SendJson(res, 200, body);
}

awaitable<void> ApiService::Metrics(http::Request&, http::Responder& res) {
  std::optional<dte::CacheStats> cache;
  if (EngineCache* c = engine_.cache()) cache = c->cache().Stats();
  std::string body = metrics_.Serialize(engine_.Stats(), cache ? &*cache : nullptr);
  co_await res.Send(200, "text/plain; version=0.0.4; charset=utf-8", std::move(body));
}

}  // namespace dte::server
