// POST /v1/completions and /v1/chat/completions.

#include <string>

#include "http/sse.h"
#include "server/api_response.h"
#include "server/api_service.h"
#include "server/generation_run.h"

namespace dte::server {
namespace {

using http::asio::awaitable;

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
std::variant<GenerationRequest, ApiError> ToGeneration(const ApiRequest& api, Engine& engine,
                                                       const ApiOptions& opt) {
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
  // Piece by piece: each message end is a checkpoint offset for the state cache.
  const std::vector<std::string> pieces =
      opt.chat_template.RenderPieces(api.messages, continuing_without_separator);
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::vector<int32_t> ids = engine.tokenizer().Encode(pieces[i]);
    gen.prompt_tokens.insert(gen.prompt_tokens.end(), ids.begin(), ids.end());
    if (i + 1 < pieces.size())
      gen.checkpoint_offsets.push_back(static_cast<int64_t>(gen.prompt_tokens.size()));
  }
  gen.stop_strings.push_back(opt.chat_template.stop);
  return gen;
}

awaitable<void> Stream(GenerationRun& run, const ApiRequest& api, const ResponseMeta& meta,
                       http::Responder& res) {
  http::SseWriter sse(res);
  if (!co_await sse.Start()) co_return;
  LeadingSpaceTrimmer trim(api.kind == ApiKind::kChat);
  std::vector<TokenPiece> pieces;
  bool first = true;
  while (true) {
    std::optional<Completion> done = co_await run.Next(&pieces);
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
                      http::Responder& res) {
  LeadingSpaceTrimmer trim(api.kind == ApiKind::kChat);
  std::vector<TokenPiece> pieces;
  std::string text;
  while (true) {
    std::optional<Completion> done = co_await run.Next(&pieces);
    text += trim.Apply(JoinPieces(pieces));
    if (!done) continue;
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

awaitable<void> ApiService::Generate(ApiKind kind, http::Request& req, http::Responder& res) {
  ParsedRequest parsed = ParseApiRequest(kind, req.body, options_.limits);
  if (auto* error = std::get_if<ApiError>(&parsed)) {
    co_await SendError(res, *error);
    co_return;
  }
  const ApiRequest& api = std::get<ApiRequest>(parsed);
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
  auto gen = ToGeneration(api, engine_, options_);
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
    co_await Stream(run, api, meta, res);
  } else {
    co_await Whole(run, api, meta, res);
  }
}

}  // namespace dte::server
