#pragma once
// Trace replay: real request arrival times and prompt/answer lengths from public LLM traces,
// replayed open loop (see open_loop.h).
//
// Formats: the Azure LLM inference trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens with
// timestamps like "2023-11-16 18:15:46.6805900") and the Mooncake JSONL (timestamp in ms,
// input_length, output_length, hash_ids: one id per 512-token block, equal ids = equal
// blocks). Times become offsets from the first request.
//
// Replay scaling: offsets are multiplied by `time_scale` (0.1 replays ten times faster) and
// token counts by `length_scale` (at least 1 token each). Prompts are synthesized to the
// scaled input length, counting one word as one token (our common-English word list is
// mostly one token per word in the RWKV World vocabulary; for other vocabularies the count is
// approximate). Mooncake's hash_ids become shared text: the same id always yields the same
// block of (512 × length_scale) words, so requests that shared a prefix in the trace share
// one in the replay. Plain functions and values.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "bench/open_loop.h"

namespace dte::bench {

struct TraceRequest {
  double at_s = 0;  // from the trace's first request
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::vector<uint64_t> hash_ids;  // Mooncake only
};

struct TraceOptions {
  double time_scale = 1.0;
  double length_scale = 1.0;
  int64_t max_lines = 0;  // 0: the whole file
  uint64_t seed = 1;
};

inline constexpr int64_t kMooncakeBlockTokens = 512;

Result<std::vector<TraceRequest>> ParseAzureCsv(std::string_view text, int64_t max_lines = 0);
Result<std::vector<TraceRequest>> ParseMooncakeJsonl(std::string_view text, int64_t max_lines = 0);
// By extension: .csv as Azure, .jsonl as Mooncake.
Result<std::vector<TraceRequest>> LoadTrace(const std::string& path, int64_t max_lines = 0);

// The prompt and max_tokens of one replayed request (`index`: its position in the trace).
PlannedRequest ReplayRequest(const TraceRequest& r, const TraceOptions& o, uint64_t index);

// The trace as an open-loop source (scaled); its duration is the last scaled offset.
std::unique_ptr<RequestSource> TraceSource(std::vector<TraceRequest> trace,
                                           const TraceOptions& options);

}  // namespace dte::bench
