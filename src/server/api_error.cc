#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace dte::server {
namespace {

std::string TypeForHttp(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403:
      return "permission_error";
    case 404: return "not_found_error";
    case 405: return "invalid_request_error";
    case 408: return "timeout_error";
    case 409: return "conflict_error";
    case 413: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

int HttpForCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kUnsupported: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kConflict: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kCorrupt:
    case StatusCode::kIoError:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

}  // namespace

ApiError MakeApiError(int http_status, std::string message, std::optional<std::string> param,
                      std::optional<std::string> code) {
  return ApiError{http_status, std::move(message), TypeForHttp(http_status), std::move(param), std::move(code)};
}

ApiError ApiErrorFromStatus(const Status& status, std::optional<std::string> param) {
  std::optional<std::string> code;
  if (status.code() == StatusCode::kConflict) code = "session_busy";
  if (status.code() == StatusCode::kResourceExhausted) code = "queue_full";
  return MakeApiError(HttpForCode(status.code()), status.message(), std::move(param), std::move(code));
}

std::string ApiErrorJson(const ApiError& e) {
  nlohmann::json j;
  j["error"]["message"] = e.message;
  j["error"]["type"] = e.type;
  j["error"]["param"] = e.param ? nlohmann::json(*e.param) : nlohmann::json(nullptr);
  j["error"]["code"] = e.code ? nlohmann::json(*e.code) : nlohmann::json(nullptr);
  // Invalid UTF-8 from a request may be quoted in a message: replace, never throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dte::server
