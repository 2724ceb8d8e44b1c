#pragma once
// A parsed http:// URL (host, port, path prefix) for the scraper and the Kubernetes actuator.
// Only plain HTTP: our http::Client has no TLS, so https:// is refused with a message that
// says so (see docs/autoscaling.md: use `kubectl proxy` for the API server).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dte::autoscale {

struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string path;  // without a trailing '/', "" for the root
};

// "http://127.0.0.1:9001", "http://[::1]:8001/prefix", "127.0.0.1:9001" (scheme optional).
Result<HttpUrl> ParseHttpUrl(std::string_view url);

}  // namespace dte::autoscale
