#pragma once
// The state cache's HTTP surface, as plain functions the handlers call (and tests call
// directly): the JSON of GET /v1/cache/stats, and who may POST /v1/cache/clear.
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "cache/tiered_cache.h"
#include "engine/engine_cache.h"
#include "server/api_error.h"

namespace dte::server {

// {"object": "cache.stats", "enabled": true, "model_id": ..., "tiers": [{"name": "l1", "entries",
//  "bytes", "capacity_bytes", "raw_bytes", "hits", "misses", "hit_ratio", "evictions",
//  "expirations", "promotions", "rejections", "corrupt", "compression_ratio", "get_p50_us", "get_p99_us"}, ...],
//  "prefix": {"entries", "lookups", "hits", "hit_ratio", "hit_tokens"},
//  "checkpoints": {...}, "sessions": {...}}; {"object": "cache.stats", "enabled": false} without a
//  cache.
std::string CacheStatsJson(const CacheStats* stats, const StateCacheCounters* counters,
                           std::string_view model_id);

// Admin endpoints: with a token configured, the request must carry "Authorization: Bearer
// <token>" (401 otherwise); without one, only loopback clients are allowed (403 otherwise).
std::optional<ApiError> CheckAdmin(std::string_view admin_token, std::string_view authorization,
                                   std::string_view remote_address);
bool IsLoopbackAddress(std::string_view address);

}  // namespace dte::server
