#pragma once
// Request traces for the autoscaling simulator: arrival time and token counts per request.
// Reads the Azure LLM inference trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens with
// "YYYY-MM-DD HH:MM:SS.fffffff" stamps), a plain CSV whose first column is seconds, and the
// Mooncake JSONL trace (timestamp in ms, input_length, output_length). Plain functions.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte::autoscale {

struct TraceRequest {
  double arrival_s = 0;  // from the first request of the trace
  int prompt_tokens = 0;
  int gen_tokens = 0;
};

// Parses the text of a trace; `format_hint` is the file name (".jsonl" selects JSONL).
// Requests come back sorted by arrival, times relative to the first one.
Result<std::vector<TraceRequest>> ParseTrace(std::string_view text, std::string_view format_hint);
Result<std::vector<TraceRequest>> LoadTrace(const std::string& path);

// "2023-11-16 18:15:46.6805900" -> seconds since the Unix epoch (UTC, no leap seconds).
Result<double> ParseTimestamp(std::string_view text);

}  // namespace dte::autoscale
