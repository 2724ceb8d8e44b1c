#include "server/api_response.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

namespace dte::server {
namespace {

using json = nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json UsageJson(const Usage& u) {
  json j = {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens}};
  j["prompt_tokens_details"] = {{"cached_tokens", u.cached_tokens}};
  return j;
}

json Envelope(const ResponseMeta& meta, bool chunk) {
  json j;
  j["id"] = meta.id;
  j["object"] = meta.kind == ApiKind::kChat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  j["created"] = meta.created;
  j["model"] = meta.model;
  if (meta.session_id) j["session_id"] = *meta.session_id;
  return j;
}

}  // namespace

ResponseMeta NewResponseMeta(ApiKind kind, std::string model, std::optional<std::string> session_id) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char id[64];
  std::snprintf(id, sizeof(id), "%s-%012llx%06llx", kind == ApiKind::kChat ? "chatcmpl" : "cmpl",
                static_cast<unsigned long long>(salt & 0xffffffffffffULL),
                static_cast<unsigned long long>(++counter & 0xffffff));
  ResponseMeta m;
  m.kind = kind;
  m.id = id;
  m.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  m.model = std::move(model);
  m.session_id = std::move(session_id);
  return m;
}

std::string FinishReasonJson(FinishReason reason) {
  return reason == FinishReason::kLength ? "length" : "stop";
}

std::string RenderResponse(const ResponseMeta& meta, const std::string& text, FinishReason reason, const Usage& usage) {
  json j = Envelope(meta, false);
  json choice = {{"index", 0}, {"finish_reason", FinishReasonJson(reason)}, {"logprobs", nullptr}};
  if (meta.kind == ApiKind::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  j["choices"] = json::array({choice});
  j["usage"] = UsageJson(usage);
  return Dump(j);
}

std::string RenderChunk(const ResponseMeta& meta, const std::string& text, bool first, std::optional<FinishReason> finish) {
  json j = Envelope(meta, true);
  json choice = {{"index", 0}, {"logprobs", nullptr}};
  choice["finish_reason"] = finish ? json(FinishReasonJson(*finish)) : json(nullptr);
  if (meta.kind == ApiKind::kChat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || !finish) delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  j["choices"] = json::array({choice});
  return Dump(j);
}

std::string RenderUsageChunk(const ResponseMeta& meta, const Usage& usage) {
  json j = Envelope(meta, true);
  j["choices"] = json::array();
  j["usage"] = UsageJson(usage);
  return Dump(j);
}

}  // namespace dte::server
