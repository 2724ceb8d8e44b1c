#pragma once
// OpenAI-compatible response bodies: whole responses, stream chunks (one Server-Sent Event
// each) and the usage object.

#include <cstdint>
#include <optional>
#include <string>

#include "engine/request.h"
#include "server/api_request.h"

namespace dte::server {

struct ResponseMeta {
  ApiKind kind = ApiKind::kCompletion;
  std::string id;        // cmpl-... / chatcmpl-...
  int64_t created = 0;   // unix seconds
  std::string model;
  std::optional<std::string> session_id;
};

ResponseMeta NewResponseMeta(ApiKind kind, std::string model, std::optional<std::string> session_id);

// finish_reason as OpenAI spells it ("stop" / "length").
std::string FinishReasonJson(FinishReason reason);

std::string RenderResponse(const ResponseMeta& meta, const std::string& text, FinishReason reason, const Usage& usage);
// A stream chunk; `first` adds the assistant role to a chat delta; a set `finish` closes the choice.
std::string RenderChunk(const ResponseMeta& meta, const std::string& text, bool first,
                        std::optional<FinishReason> finish);
// The final usage-only chunk (stream_options.include_usage).
std::string RenderUsageChunk(const ResponseMeta& meta, const Usage& usage);

}  // namespace dte::server
