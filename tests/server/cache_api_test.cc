// The state cache's HTTP surface: the stats JSON from a real TieredCache, the admin check of
// POST /v1/cache/clear, and the chat pieces whose ends become checkpoint offsets.

#include "server/cache_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/chat_template.h"

namespace dte::server {
namespace {

using json = nlohmann::json;

TEST(CacheStatsJsonTest, ReportsEveryTierAndThePrefixCounters) {
  TieredCacheOptions o;
  auto cache = TieredCache::Open(o);
  ASSERT_TRUE(cache.ok());
  Checkpoint cp;
  cp.state.assign(1000, 7);
  cp.logits.assign(16, 0.5f);
  const std::vector<int32_t> prefix = {1, 2, 3, 4};
  (*cache)->PutPrefix("m", prefix, cp);
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  ASSERT_TRUE((*cache)->LookupPrefix("m", prompt));
  const std::vector<int32_t> other = {9, 9};
  EXPECT_FALSE((*cache)->LookupPrefix("m", other));
  StateCacheCounters counters;
  counters.prefix_lookups = 2;
  counters.prefix_hits = 1;
  counters.prefix_hit_tokens = 4;
  const CacheStats stats = (*cache)->Stats();

  json j = json::parse(CacheStatsJson(&stats, &counters, "m"));
  EXPECT_EQ(j["object"], "cache.stats");
  EXPECT_EQ(j["enabled"], true);
  EXPECT_EQ(j["model_id"], "m");
  ASSERT_EQ(j["tiers"].size(), stats.tiers.size());
  const json& l1 = j["tiers"][0];
  EXPECT_EQ(l1["name"], "l1");
  EXPECT_EQ(l1["entries"], 1);
  EXPECT_EQ(l1["hits"], stats.tiers[0].hits);
  EXPECT_GE(l1["hits"].get<int64_t>(), 1);
  EXPECT_EQ(l1["bytes"], stats.tiers[0].bytes);
  EXPECT_GE(l1["bytes"].get<int64_t>(), 1000 + 16 * 4);
  for (const char* field : {"entries", "bytes", "capacity_bytes", "raw_bytes", "hits", "misses",
                            "hit_ratio", "evictions", "expirations", "promotions", "rejections", "corrupt",
                            "compression_ratio", "get_p50_us", "get_p99_us", "writes",
                            "bytes_written", "errors", "skipped"})
    EXPECT_TRUE(l1.contains(field)) << field;
  EXPECT_EQ(j["redis_dirty_sessions"], 0);
  EXPECT_EQ(j["prefix"]["entries"], 1);
  EXPECT_EQ(j["prefix"]["lookups"], 2);
  EXPECT_EQ(j["prefix"]["hits"], 1);
  EXPECT_DOUBLE_EQ(j["prefix"]["hit_ratio"].get<double>(), 0.5);
  EXPECT_EQ(j["prefix"]["hit_tokens"], 4);
}

TEST(CacheStatsJsonTest, WithoutACacheSaysDisabled) {
  json j = json::parse(CacheStatsJson(nullptr, nullptr, ""));
  EXPECT_EQ(j["enabled"], false);
  EXPECT_FALSE(j.contains("tiers"));
}

TEST(CheckAdminTest, TokenMustMatchExactly) {
  EXPECT_FALSE(CheckAdmin("s3cret", "Bearer s3cret", "10.0.0.7"));
  for (const char* bad :
       {"", "Bearer", "Bearer ", "Bearer s3cre", "Bearer s3cret2", "bearer s3cret", "s3cret"}) {
    std::optional<ApiError> e = CheckAdmin("s3cret", bad, "127.0.0.1");
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->http_status, 401) << bad;
    EXPECT_EQ(e->type, "authentication_error");
  }
}

TEST(CheckAdminTest, WithoutATokenOnlyLoopbackIsAllowed) {
  for (const char* local : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"})
    EXPECT_FALSE(CheckAdmin("", "", local)) << local;
  for (const char* remote : {"192.0.2.2", "10.0.0.1", "::ffff:10.0.0.1", "fd00::2", ""}) {
    std::optional<ApiError> e = CheckAdmin("", "Bearer anything", remote);
    ASSERT_TRUE(e) << remote;
    EXPECT_EQ(e->http_status, 403);
    EXPECT_EQ(e->type, "permission_error");
  }
}

TEST(ChatTemplateTest, PiecesJoinToTheRenderedPrompt) {
  ChatTemplate t;
  std::vector<ChatMessage> messages = {{"system", "Be brief."},
                                       {"user", "Hi\n\nthere"},
                                       {"assistant", "Hello."},
                                       {"user", "Weather?"}};
  for (bool continuing : {false, true}) {
    std::vector<std::string> pieces = t.RenderPieces(messages, continuing);
    ASSERT_EQ(pieces.size(), messages.size() + 1);
    std::string joined;
    for (const auto& p : pieces) joined += p;
    EXPECT_EQ(joined, t.Render(messages, continuing));
    EXPECT_EQ(pieces.back(), t.generation_prompt);
    EXPECT_EQ(pieces[1], "User: Hi\nthere\n\n");
  }
}

}  // namespace
}  // namespace dte::server
