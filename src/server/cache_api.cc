#include "server/cache_api.h"

#include <nlohmann/json.hpp>

namespace dte::server {
namespace {

using json = nlohmann::json;

double Ratio(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / whole : 0.0;
}

json TierJson(const TierStats& t) {
  json j;
  j["name"] = t.name;
  if (!t.eviction.empty()) j["eviction"] = t.eviction;
  j["entries"] = t.entries;
  j["bytes"] = t.bytes;
  j["capacity_bytes"] = t.capacity_bytes;
  j["raw_bytes"] = t.raw_bytes;
  j["hits"] = t.hits;
  j["misses"] = t.misses;
  j["hit_ratio"] = t.hit_ratio();
  j["evictions"] = t.evictions;
  j["expirations"] = t.expirations;
  j["promotions"] = t.promotions;
  j["rejections"] = t.rejections;
  j["corrupt"] = t.corrupt;
  j["writes"] = t.writes;
  j["bytes_written"] = t.bytes_written;
  j["errors"] = t.errors;
  j["skipped"] = t.skipped;
  j["compression_ratio"] = t.compression_ratio();
  j["get_p50_us"] = t.get_p50_us;
  j["get_p99_us"] = t.get_p99_us;
  return j;
}

// Constant-time comparison: the token is a secret.
bool SameSecret(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(i < b.size() ? b[i] : 0);
  return diff == 0;
}

}  // namespace

std::string CacheStatsJson(const CacheStats* stats, const StateCacheCounters* counters,
                           std::string_view model_id) {
  json j;
  j["object"] = "cache.stats";
  j["enabled"] = stats != nullptr;
  if (stats == nullptr) return j.dump();
  j["model_id"] = std::string(model_id);
  json tiers = json::array();
  for (const TierStats& t : stats->tiers) tiers.push_back(TierJson(t));
  j["tiers"] = std::move(tiers);
  j["lookups"] = stats->lookups;
  j["hits"] = stats->hits;
  j["l3_admission_rejections"] = stats->l3_admission_rejections;
  j["redis_dirty_sessions"] = stats->redis_dirty_sessions;
  StateCacheCounters c = counters ? *counters : StateCacheCounters{};
  j["prefix"] = {{"entries", stats->prefix_entries},
                 {"lookups", c.prefix_lookups},
                 {"hits", c.prefix_hits},
                 {"hit_ratio", Ratio(c.prefix_hits, c.prefix_lookups)},
                 {"hit_tokens", c.prefix_hit_tokens}};
  j["checkpoints"] = {{"written", c.checkpoints},
                      {"dropped", c.checkpoints_dropped},
                      {"pending_bytes", c.pending_bytes},
                      {"capture_seconds_total", c.capture_seconds},
                      {"put_seconds_total", c.put_seconds}};
  j["sessions"] = {{"written", c.session_writes}, {"restored", c.sessions_restored}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsLoopbackAddress(std::string_view a) {
  if (a.starts_with("::ffff:")) a.remove_prefix(7);  // IPv4-mapped IPv6
  return a.starts_with("127.") || a == "::1" || a == "localhost";
}

std::optional<ApiError> CheckAdmin(std::string_view admin_token, std::string_view authorization,
                                   std::string_view remote_address) {
  if (!admin_token.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() > kBearer.size() &&
        authorization.substr(0, kBearer.size()) == kBearer &&
        SameSecret(authorization.substr(kBearer.size()), admin_token))
      return std::nullopt;
    return MakeApiError(401, "this endpoint needs the admin token (Authorization: Bearer ...)",
                        std::nullopt, "invalid_admin_token");
  }
  if (IsLoopbackAddress(remote_address)) return std::nullopt;
  return MakeApiError(
      403,
      "admin endpoints are open to loopback clients only (start the server with --admin-token)",
      std::nullopt, "admin_only");
}

}  // namespace dte::server
