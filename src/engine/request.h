#pragma once
// What a client asks the engine for, and what the engine sends back on the request's channel.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/sampler.h"

namespace dte {

enum class FinishReason { kStop, kLength, kCancelled, kError };
std::string_view FinishReasonName(FinishReason r);  // "stop", "length", "cancelled", "error"

struct GenerationRequest {
  std::vector<int32_t> prompt_tokens;  // may be empty only when continuing a session
  SamplingParams sampling;
  int64_t max_tokens = 256;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_tokens;
  // Continue this session's state (see SessionStore); the new tokens are appended to it.
  std::optional<std::string> session_id;
  // Offsets in prompt_tokens where a chat message ends: with a state cache, a checkpoint is
  // taken there (besides the prompt's end and every checkpoint_interval tokens).
  std::vector<int64_t> checkpoint_offsets;
};

struct Usage {
  int64_t prompt_tokens = 0;      // tokens prefilled for this request
  int64_t completion_tokens = 0;  // tokens sampled
  int64_t cached_tokens = 0;      // tokens not re-processed: a session's history, a cached prefix
  int64_t prefix_hit_tokens = 0;  // ... of which came from a cached prefix checkpoint
};

// One piece of output: text safe to show (never a split UTF-8 character, never part of a stop
// string) and how many tokens produced it.
struct TokenPiece {
  std::string text;
  int64_t tokens = 0;
};

// When the engine did what for one request, for its trace (the HTTP handler turns these into
// spans afterwards; the scheduler thread only reads the clock). Unix nanoseconds (system clock);
// 0 = did not happen (e.g. admitted_unix_nano for a request that never left the queue).
struct CheckpointTiming {
  int64_t start_unix_nano = 0;  // the scheduler copied the state out for the cache's writer
  int64_t end_unix_nano = 0;
  int64_t tokens = 0;  // prefix length checkpointed
};
struct RequestTiming {
  // The state cache's prefix lookup (in Submit, on the caller's thread); 0: no lookup.
  int64_t cache_lookup_start_unix_nano = 0;
  int64_t cache_lookup_end_unix_nano = 0;
  // Which tier served the prefix ("l1", "l2", "l3" or "redis"), "miss", or empty without a
  // lookup.
  std::string cache_tier;
  int64_t enqueued_unix_nano = 0;
  int64_t queue_depth = 0;  // requests waiting when this one was queued (itself included)
  int64_t admitted_unix_nano = 0;
  int64_t first_token_unix_nano = 0;
  int64_t finished_unix_nano = 0;
  std::vector<CheckpointTiming> checkpoints;  // prefix checkpoints taken during this prefill
};

struct Completion {
  FinishReason reason = FinishReason::kStop;
  Usage usage;
  Status error;  // set when reason == kError
  RequestTiming timing;
};

}  // namespace dte
