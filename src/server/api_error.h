#pragma once
// The one place where a Status becomes an HTTP error: OpenAI's error shape
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// with the status code that fits the StatusCode.

#include <optional>
#include <string>

#include "base/status.h"

namespace dte::server {

struct ApiError {
  int http_status = 500;
  std::string message;
  std::string type;                  // invalid_request_error, not_found_error, ...
  std::optional<std::string> param;  // the offending request field
  std::optional<std::string> code;   // machine-readable detail
};

// StatusCode -> HTTP status and OpenAI type: InvalidArgument 400, NotFound 404, Conflict 409,
// ResourceExhausted 429, Unavailable 503, everything else 500.
ApiError ApiErrorFromStatus(const Status& status, std::optional<std::string> param = std::nullopt);
ApiError MakeApiError(int http_status, std::string message, std::optional<std::string> param = std::nullopt,
                      std::optional<std::string> code = std::nullopt);
std::string ApiErrorJson(const ApiError& error);

}  // namespace dte::server
