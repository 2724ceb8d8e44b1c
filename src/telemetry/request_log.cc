#include "telemetry/request_log.h"

#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace dte {

LogLevel RequestLogLevel(int status) {
  if (status >= 500 || status == 0) return LogLevel::kError;
  if (status >= 400) return LogLevel::kWarning;
  return LogLevel::kInfo;
}

std::string FormatRequestLog(const RequestLogEntry& e, WallTime now) {
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  nlohmann::ordered_json j;
  j["ts"] = FormatRfc3339(now);
  j["level"] = kNames[static_cast<int>(RequestLogLevel(e.status))];
  j["msg"] = "request";
  j["component"] = e.component;
  auto put_string = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  put_string("trace_id", e.trace_id);
  put_string("request_id", e.request_id);
  put_string("method", e.method);
  put_string("route", e.route);
  j["status"] = e.status;
  put_string("model", e.model);
  put_string("backend", e.backend);
  if (e.prompt_tokens >= 0) j["prompt_tokens"] = e.prompt_tokens;
  if (e.completion_tokens >= 0) j["completion_tokens"] = e.completion_tokens;
  if (e.cached_tokens >= 0) j["cached_tokens"] = e.cached_tokens;
  if (e.latency_ms >= 0) j["latency_ms"] = std::round(e.latency_ms * 1000) / 1000;
  if (e.ttft_ms >= 0) j["ttft_ms"] = std::round(e.ttft_ms * 1000) / 1000;
  put_string("error", e.error);
  // dump() escapes control characters, so the line never contains a raw newline.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void LogRequest(const RequestLogEntry& entry) {
  if (static_cast<int>(RequestLogLevel(entry.status)) < static_cast<int>(GetLogLevel())) return;
  std::string line = FormatRequestLog(entry, std::chrono::system_clock::now());
  line += '\n';
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace dte
