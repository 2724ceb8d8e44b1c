#pragma once
// OpenAI-compatible request bodies (POST /v1/completions, /v1/chat/completions), parsed and
// validated into what the engine needs. Unknown fields are ignored; a field of the wrong type
// or out of range is an error naming it (param) — never a crash, whatever the bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/sampler.h"
#include "server/api_error.h"

namespace dte::server {

enum class ApiKind { kCompletion, kChat };

struct ChatMessage {
  std::string role;  // system, user, assistant ("developer" is read as system)
  std::string content;
};

struct ApiRequest {
  ApiKind kind = ApiKind::kCompletion;
  std::string model;
  std::string prompt;                               // completions: text prompt
  std::optional<std::vector<int32_t>> prompt_ids;   // completions: prompt given as token ids
  std::vector<ChatMessage> messages;                // chat
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int64_t max_tokens = 0;
  SamplingParams sampling;
  std::vector<std::string> stop;
  std::optional<std::string> session_id;  // extension: continue a session (chat)
  std::string user;
};

struct ApiLimits {
  int64_t default_max_tokens = 256;
  int64_t max_tokens_limit = 8192;  // larger max_tokens is refused
  size_t max_stop_strings = 4;
  size_t max_stop_length = 256;
};

using ParsedRequest = std::variant<ApiRequest, ApiError>;

ParsedRequest ParseApiRequest(ApiKind kind, std::string_view body, const ApiLimits& limits);

}  // namespace dte::server
