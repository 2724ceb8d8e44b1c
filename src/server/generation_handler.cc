// POST /v1/completions and /v1/chat/completions.

#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "http/sse.h"
#include "server/api_response.h"
#include "server/api_service.h"
#include "server/generation_run.h"
#include "server/request_spans.h"
#include "telemetry/request_log.h"

namespace dte::server {
namespace {

using http::asio::awaitable;

// Forwards to the connection's responder and remembers what was answered (status, and the body
// of an error), for the request's span and log line.
class RecordingResponder : public http::Responder {
 public:
  explicit RecordingResponder(http::Responder& inner) : inner_(inner) {}
  bool started() const override { return inner_.started(); }
  int status() const { return status_; }
  const std::string& error_body() const { return error_body_; }

 protected:
  awaitable<bool> DoSend(int status, std::string_view content_type, std::string body,
                         http::Headers extra_headers) override {
    status_ = status;
    if (status >= 400) error_body_ = body;
    return inner_.Send(status, content_type, std::move(body), std::move(extra_headers));
  }
  awaitable<bool> DoStartStream(int status, std::string_view content_type,
                                http::Headers extra_headers) override {
    status_ = status;
    return inner_.StartStream(status, content_type, std::move(extra_headers));
  }
  awaitable<bool> DoWrite(std::string_view chunk) override { return inner_.Write(chunk); }
  awaitable<bool> DoFinish() override { return inner_.Finish(); }

 private:
  http::Responder& inner_;
  int status_ = 0;
  std::string error_body_;
};

// The message of an OpenAI-shaped error body ({"error":{"message":...}}), or empty.
std::string ErrorMessage(const std::string& body) {
  if (body.empty()) return {};
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("message") && j["error"]["message"].is_string())
    return j["error"]["message"].get<std::string>();
  return {};
}

// RWKV answers "Assistant:" with a space first; chat clients expect the text without it.
class LeadingSpaceTrimmer {
 public:
  explicit LeadingSpaceTrimmer(bool active) : active_(active) {}
  std::string Apply(std::string text) {
    if (active_ && !text.empty()) {
      active_ = false;
      if (text[0] == ' ') text.erase(0, 1);
    }
    return text;
  }

 private:
  bool active_;
};

std::string JoinPieces(std::vector<TokenPiece>& pieces) {
  std::string text;
  for (const auto& p : pieces) text += p.text;
  pieces.clear();
  return text;
}

// Builds the engine request: tokens of the prompt (or rendered chat), limits, stops.
// `prompt_end_serves_next_turn`: ChatTemplate::GenerationPromptStartsReplies for this tokenizer.
std::variant<GenerationRequest, ApiError> ToGeneration(const ApiRequest& api, Engine& engine,
                                                       const ApiOptions& opt,
                                                       bool prompt_end_serves_next_turn) {
  GenerationRequest gen;
  gen.sampling = api.sampling;
  gen.max_tokens = api.max_tokens;
  gen.stop_strings = api.stop;
  gen.stop_tokens = opt.stop_tokens;
  if (api.kind == ApiKind::kCompletion) {
    if (api.session_id)
      return MakeApiError(400, "session_id is supported on chat completions", "session_id");
    gen.prompt_tokens = api.prompt_ids ? *api.prompt_ids : engine.tokenizer().Encode(api.prompt);
    return gen;
  }
  bool continuing_without_separator = false;
  if (api.session_id) {
    std::optional<SessionInfo> info =
        engine.FindSession(*api.session_id);  // may restore it from the cache
    if (!info)
      return MakeApiError(404, "no session '" + *api.session_id + "'", "session_id",
                          "session_not_found");
    continuing_without_separator = info->turns > 0 && !info->ended_with_stop;
    gen.session_id = api.session_id;
  }
  // Piece by piece: each message end is a checkpoint offset for the state cache, except the
  // last one when the prompt's end serves the next turn as well.
  const std::vector<std::string> pieces =
      opt.chat_template.RenderPieces(api.messages, continuing_without_separator);
  const size_t last_offset = prompt_end_serves_next_turn ? pieces.size() - 2 : pieces.size() - 1;
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::vector<int32_t> ids = engine.tokenizer().Encode(pieces[i]);
    gen.prompt_tokens.insert(gen.prompt_tokens.end(), ids.begin(), ids.end());
    if (i < last_offset)
      gen.checkpoint_offsets.push_back(static_cast<int64_t>(gen.prompt_tokens.size()));
  }
  gen.stop_strings.push_back(opt.chat_template.stop);
  return gen;
}

awaitable<void> Stream(GenerationRun& run, const ApiRequest& api, const ResponseMeta& meta,
                       http::Responder& res, std::optional<Completion>* result) {
  http::SseWriter sse(res);
  if (!co_await sse.Start()) co_return;
  LeadingSpaceTrimmer trim(api.kind == ApiKind::kChat);
  std::vector<TokenPiece> pieces;
  bool first = true;
  while (true) {
    std::optional<Completion> done = co_await run.Next(&pieces);
    if (done) *result = *done;
    std::string text = trim.Apply(JoinPieces(pieces));
    std::string events;
    if (!text.empty() || (first && api.kind == ApiKind::kChat)) {
      http::SseWriter::AppendEvent(events, RenderChunk(meta, text, first, std::nullopt));
      first = false;
    }
    if (done) {
      if (done->reason == FinishReason::kCancelled) co_return;  // nobody is listening
      if (done->reason == FinishReason::kError) {
        http::SseWriter::AppendEvent(events, ApiErrorJson(ApiErrorFromStatus(done->error)));
      } else {
        http::SseWriter::AppendEvent(events, RenderChunk(meta, "", first, done->reason));
        if (api.include_usage)
          http::SseWriter::AppendEvent(events, RenderUsageChunk(meta, done->usage));
      }
      http::SseWriter::AppendEvent(events, "[DONE]");
      if (co_await sse.Raw(events)) co_await sse.Finish();
      co_return;
    }
    if (!events.empty() && !co_await sse.Raw(events))
      co_return;  // client gone: ~GenerationRun cancels
  }
}

awaitable<void> Whole(GenerationRun& run, const ApiRequest& api, const ResponseMeta& meta,
                      http::Responder& res, std::optional<Completion>* result) {
  LeadingSpaceTrimmer trim(api.kind == ApiKind::kChat);
  std::vector<TokenPiece> pieces;
  std::string text;
  while (true) {
    std::optional<Completion> done = co_await run.Next(&pieces);
    text += trim.Apply(JoinPieces(pieces));
    if (!done) continue;
    *result = *done;
    if (done->reason == FinishReason::kCancelled) co_return;
    if (done->reason == FinishReason::kError) {
      const ApiError error = ApiErrorFromStatus(done->error);
      co_await SendError(res, error);
    } else {
      co_await SendJson(res, 200, RenderResponse(meta, text, done->reason, done->usage));
    }
    co_return;
  }
}

}  // namespace

// What one generation request came to, for its span and log line.
struct ApiService::GenerationOutcome {
  std::string model;
  std::optional<Completion> completion;  // set once the engine finished it
};

namespace {

// The worker.request span's attributes, the engine's spans, and the request log line.
void FinishGeneration(const Tracer* tracer, Span& span, const http::Request& req,
                      std::string_view route, const RecordingResponder& res,
                      const ApiService::GenerationOutcome& out, int64_t start_unix_nano,
                      bool failed) {
  const int status = failed && !res.started() ? 500 : res.status();
  std::string error = status >= 400 ? ErrorMessage(res.error_body()) : std::string();
  if (out.completion && out.completion->reason == FinishReason::kError)
    error = out.completion->error.message();
  if (out.completion && out.completion->reason == FinishReason::kCancelled)
    error = "cancelled: the client went away";
  if (failed && error.empty()) error = "the handler failed";
  if (span.IsRecording()) {
    span.SetAttribute("http.request.method", req.method);
    span.SetAttribute("http.route", route);
    span.SetAttribute("http.response.status_code", static_cast<int64_t>(status));
    if (!out.model.empty()) span.SetAttribute("gen_ai.request.model", out.model);
    if (out.completion) {
      const Usage& u = out.completion->usage;
      span.SetAttribute("gen_ai.usage.input_tokens", u.prompt_tokens);
      span.SetAttribute("gen_ai.usage.output_tokens", u.completion_tokens);
      span.SetAttribute("dte.cache.cached_tokens", u.cached_tokens);
      AddEngineSpans(*tracer, span.context(), *out.completion);
    }
    if (status >= 500 || status == 0 || failed ||
        (out.completion && out.completion->reason == FinishReason::kError))
      span.SetStatus(SpanStatusCode::kError, error);
  }
  span.End();
  RequestLogEntry entry;
  entry.component = "worker";
  if (span.context().IsValid()) entry.trace_id = span.context().trace_id.Hex();
  entry.method = req.method;
  entry.route = std::string(route);
  entry.status = status;
  entry.model = out.model;
  if (out.completion && out.completion->reason != FinishReason::kCancelled) {
    const Completion& c = *out.completion;
    entry.prompt_tokens = c.usage.prompt_tokens;
    entry.completion_tokens = c.usage.completion_tokens;
    entry.cached_tokens = c.usage.cached_tokens;
    if (c.timing.first_token_unix_nano > 0)
      entry.ttft_ms = static_cast<double>(c.timing.first_token_unix_nano - start_unix_nano) / 1e6;
  }
  entry.latency_ms = SecondsSince(req.received_at) * 1000.0;
  entry.error = std::move(error);
  LogRequest(entry);
}

}  // namespace

awaitable<void> ApiService::Generate(ApiKind kind, http::Request& req, http::Responder& res) {
  const int64_t start_unix_nano = UnixNanosNow();
  Span span;
  if (tracing_ != nullptr)
    span = tracing_->tracer().StartServerSpan("worker.request", req.Header("traceparent"));
  RecordingResponder recorder(res);
  GenerationOutcome out;
  std::exception_ptr failure;
  try {
    co_await GenerateBody(kind, req, recorder, out);
  } catch (...) {
    failure = std::current_exception();
  }
  const std::string_view route =
      kind == ApiKind::kChat ? "/v1/chat/completions" : "/v1/completions";
  FinishGeneration(tracing_ ? &tracing_->tracer() : nullptr, span, req, route, recorder, out,
                   start_unix_nano, failure != nullptr);
  if (failure) std::rethrow_exception(failure);
}

awaitable<void> ApiService::GenerateBody(ApiKind kind, http::Request& req, http::Responder& res,
                                         GenerationOutcome& out) {
  ParsedRequest parsed = ParseApiRequest(kind, req.body, options_.limits);
  if (auto* error = std::get_if<ApiError>(&parsed)) {
    co_await SendError(res, *error);
    co_return;
  }
  const ApiRequest& api = std::get<ApiRequest>(parsed);
  out.model = api.model;
  if (api.model != options_.model_name) {
    {
      const ApiError reply_error =
          MakeApiError(404,
                       "The model '" + api.model + "' does not exist; this server has '" +
                           options_.model_name + "'",
                       "model", "model_not_found");
      co_await SendError(res, reply_error);
      co_return;
    }
  }
  auto gen = ToGeneration(api, engine_, options_, generation_prompt_starts_replies_);
  if (auto* error = std::get_if<ApiError>(&gen)) {
    co_await SendError(res, *error);
    co_return;
  }

  GenerationRun run(req);
  Status s = engine_.Submit(std::move(std::get<GenerationRequest>(gen)), run.channel());
  if (!s.ok()) {
    const ApiError reply_error = ApiErrorFromStatus(
        s, s.code() == StatusCode::kConflict ? std::optional<std::string>("session_id")
                                             : std::nullopt);
    co_await SendError(res, reply_error);
    co_return;
  }
  const ResponseMeta meta = NewResponseMeta(kind, options_.model_name, api.session_id);
  if (api.stream) {
    co_await Stream(run, api, meta, res, &out.completion);
  } else {
    co_await Whole(run, api, meta, res, &out.completion);
  }
}

}  // namespace dte::server
