#pragma once
// A minimal blocking HTTP/1.1 POST over a POSIX socket, for the OTLP exporter and the alert
// webhook (telemetry may not depend on src/http). Plain http:// only, one connection per
// request (Connection: close), bounded by a timeout. Reads the status line, Retry-After and a
// bounded body.
//
// Threading: the functions are reentrant; a transport object may be used by one thread at a time.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace dte {

struct HttpResult {
  int status = 0;     // HTTP status code; 0 when no response arrived (network error)
  std::string error;  // why, when status == 0
  std::optional<double> retry_after_seconds;  // from a Retry-After header (seconds or HTTP-date)
  std::string body;                           // up to 64 KiB

  bool ok() const { return status >= 200 && status < 300; }
  // 429, 502, 503, 504 and network errors are worth retrying (OTLP/HTTP specification).
  bool retryable() const {
    return status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
  }
};

struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
};
// Parses "http://host[:port][/path]"; https and other schemes are Unsupported.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// Retry-After: "<seconds>" or an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to now.
std::optional<double> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds);

HttpResult HttpPost(const HttpUrl& url, std::string_view body, std::string_view content_type,
                    std::chrono::milliseconds timeout,
                    const std::vector<std::pair<std::string, std::string>>& headers = {});

// The sending side of the OTLP exporter and the alert webhook, injectable for tests.
class OtlpTransport {
 public:
  virtual ~OtlpTransport() = default;
  virtual HttpResult Post(const std::string& body) = 0;
};

// POSTs application/json to a fixed URL.
class HttpJsonTransport : public OtlpTransport {
 public:
  HttpJsonTransport(HttpUrl url, std::chrono::milliseconds timeout,
                    std::vector<std::pair<std::string, std::string>> headers = {})
      : url_(std::move(url)), timeout_(timeout), headers_(std::move(headers)) {}
  HttpResult Post(const std::string& body) override {
    return HttpPost(url_, body, "application/json", timeout_, headers_);
  }

 private:
  HttpUrl url_;
  std::chrono::milliseconds timeout_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace dte
