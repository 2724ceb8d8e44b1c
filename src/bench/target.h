#pragma once
// Target: where a benchmark sends its requests, parsed from a URL such as
// "http://127.0.0.1:8080" or "http://localhost:8080/v1". Only plain http. The API root is the
// URL's path with "/v1" appended unless it already ends in "/v1".
//
// A benchmark is a load generator, so by default it refuses targets that are not on this
// machine's loopback interface (`allow_remote` lifts that).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dte::bench {

struct Target {
  std::string host;  // without brackets for IPv6 ("::1")
  uint16_t port = 80;
  std::string api_root = "/v1";  // prefix of "/models", "/completions", ...

  std::string Url() const;
};

Result<Target> ParseTarget(std::string_view url);

// "localhost", 127.0.0.0/8, "::1" (names are not resolved: anything else is remote).
bool IsLoopbackHost(std::string_view host);

// ParseTarget, then the loopback rule.
Result<Target> ResolveTarget(std::string_view url, bool allow_remote);

}  // namespace dte::bench
