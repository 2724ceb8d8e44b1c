#pragma once
// One structured JSON line per HTTP request, written to stderr:
//   {"ts":"2026-11-27T08:40:14.123Z","level":"info","msg":"request","component":"worker",
//    "trace_id":"...","method":"POST","route":"/v1/completions","status":200,
//    "prompt_tokens":12,"completion_tokens":40,"latency_ms":85.2,"ttft_ms":9.1,...}
// The level follows the status (5xx error, 4xx warning, else info), so `--log-level warning`
// keeps only failed requests and `--log-level error` only server errors. Fields left at their
// defaults (empty strings, negative numbers) are omitted.
//
// Threading: thread-safe; each line is written with one write(2) call, so lines never interleave.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/log.h"
#include "telemetry/alerts.h"

namespace dte {

struct RequestLogEntry {
  std::string component = "worker";  // "worker" (dte serve) or "router" (dte route)
  std::string trace_id;              // 32 hex digits, from the request's span
  std::string request_id;
  std::string method;
  std::string route;  // the matched route pattern, not the raw path
  int status = 0;
  std::string model;
  std::string backend;  // router: the worker that served it
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  int64_t cached_tokens = -1;  // prompt tokens served from the state cache
  double latency_ms = -1;
  double ttft_ms = -1;
  std::string error;  // the error message for a failed request
};

LogLevel RequestLogLevel(int status);
std::string FormatRequestLog(const RequestLogEntry& entry, WallTime now);
// Writes the line (plus '\n') to stderr when its level is enabled (SetLogLevel in base/log.h).
void LogRequest(const RequestLogEntry& entry);

}  // namespace dte
