// GET /v1/cache/stats and POST /v1/cache/clear (admin).

#include "server/api_service.h"
#include "server/cache_api.h"

namespace dte::server {

using http::asio::awaitable;

namespace {

int64_t EntryCount(const dte::CacheStats& stats) {
  int64_t n = 0;
  for (const TierStats& t : stats.tiers) n += t.entries;
  return n;
}

}  // namespace

awaitable<void> ApiService::CacheStats(http::Request&, http::Responder& res) {
  std::string body;
  if (EngineCache* cache = engine_.cache()) {
    const dte::CacheStats stats = cache->cache().Stats();
    const StateCacheCounters counters = cache->Counters();
    body = CacheStatsJson(&stats, &counters, cache->model_id());
  } else {
    body = CacheStatsJson(nullptr, nullptr, "");
  }
  co_await SendJson(res, 200, std::move(body));
}

awaitable<void> ApiService::CacheClear(http::Request& req, http::Responder& res) {
  if (std::optional<ApiError> denied =
          CheckAdmin(options_.admin_token, req.Header("Authorization"), req.remote_address)) {
    co_await SendError(res, *denied);
    co_return;
  }
  EngineCache* cache = engine_.cache();
  if (cache == nullptr) {
    const ApiError reply_error = MakeApiError(
        404, "this server runs without a state cache (--no-cache)", std::nullopt, "cache_disabled");
    co_await SendError(res, reply_error);
    co_return;
  }
  // Not waiting for the writer queue (a handler must not block): a checkpoint still queued
  // may land after the clear. Sessions held only by the cache are dropped too.
  const int64_t entries = EntryCount(cache->cache().Stats());
  cache->cache().Clear();
  const std::string body =
      R"({"object":"cache.cleared","cleared":true,"entries":)" + std::to_string(entries) + "}";
  co_await SendJson(res, 200, body);
}

}  // namespace dte::server
