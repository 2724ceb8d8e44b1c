// The shared Redis tier, against a real redis-server: two TieredCache instances sharing one Redis
// play two workers. Cross-worker sessions and prefixes, freshness of a session that moved, a
// damaged value, Redis hung / killed / restarted mid-run, and the URL parser and breaker.

#include "cache/redis_tier.h"

#include <gtest/gtest.h>

#include <thread>

#include "cache/cache_test_util.h"
#include "cache/redis_server.h"
#include "cache/tiered_cache.h"

namespace dte {
namespace {

using testing::MakeCheckpoint;
using testing::RedisServer;

std::vector<int32_t> Prompt(int n, int salt = 0) {
  std::vector<int32_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = (i * 13 + salt) % 97;
  return p;
}

RedisTierOptions RedisOptions(const RedisServer& server) {
  RedisTierOptions r;
  r.url = server.url();
  r.key_prefix = "test:";
  r.ttl = std::chrono::seconds(600);
  r.backoff = std::chrono::milliseconds(300);
  return r;
}

std::unique_ptr<TieredCache> Worker(const RedisServer& server, RedisTierOptions r) {
  TieredCacheOptions o;
  o.block_tokens = 16;
  o.l1.capacity_bytes = 1 << 20;
  o.redis = r;
  auto cache = TieredCache::Open(o);
  EXPECT_TRUE(cache.ok()) << cache.status().ToString();
  return cache.ok() ? std::move(*cache) : nullptr;
}
std::unique_ptr<TieredCache> Worker(const RedisServer& server) { return Worker(server, RedisOptions(server)); }

std::shared_ptr<const Checkpoint> Cp(uint32_t seed) { return std::make_shared<const Checkpoint>(MakeCheckpoint(seed)); }

const TierStats& RedisStats(const CacheStats& s) {
  EXPECT_EQ(s.tiers.back().name, "redis");
  return s.tiers.back();
}

class RedisTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.available()) GTEST_SKIP() << "redis-server not installed";
    ASSERT_TRUE(server_.Start());
  }
  RedisServer server_;
};

TEST_F(RedisTierTest, SessionPutOnOneWorkerIsFoundOnAnother) {
  auto a = Worker(server_), b = Worker(server_);
  CacheKey s = TieredCache::SessionKey("m", "chat-1");
  a->Put(s, Cp(1), Priority::kConversation);  // written through before Put returns
  auto got = b->Get(s);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, MakeCheckpoint(1));
  EXPECT_EQ(RedisStats(b->Stats()).hits, 1);
  EXPECT_EQ(b->Stats().tiers[0].entries, 1);  // promoted into B's L1
  EXPECT_EQ(b->Get(TieredCache::SessionKey("m", "chat-2")), nullptr);
  EXPECT_EQ(RedisStats(b->Stats()).misses, 1);
  // General entries stay local unless write_all is on.
  a->Put(77, Cp(77), Priority::kGeneral);
  EXPECT_EQ(b->Get(77), nullptr);
  auto r = RedisOptions(server_);
  r.write_all = true;
  auto c = Worker(server_, r);
  c->Put(78, Cp(78), Priority::kGeneral);
  ASSERT_TRUE(c->Flush().ok());  // waits for the background write
  ASSERT_NE(b->Get(78), nullptr);
  EXPECT_GT(RedisStats(c->Stats()).bytes_written, 0);
}

TEST_F(RedisTierTest, SessionContinuesAcrossWorkersAndBack) {
  auto a = Worker(server_), b = Worker(server_);
  CacheKey s = TieredCache::SessionKey("m", "chat");
  a->Put(s, Cp(1), Priority::kConversation);
  EXPECT_EQ(b->Get(s)->state, MakeCheckpoint(1).state);
  b->Put(s, Cp(2), Priority::kConversation);  // turn 2 on worker B
  // A still holds turn 1 in L1; it must notice B's newer copy.
  EXPECT_EQ(a->Get(s)->state, MakeCheckpoint(2).state);
  a->Put(s, Cp(3), Priority::kConversation);
  EXPECT_EQ(b->Get(s)->state, MakeCheckpoint(3).state);
  // Current copies are not fetched again: only the 32-byte stamp is read.
  int64_t hits = RedisStats(a->Stats()).hits;
  EXPECT_EQ(a->Get(s)->state, MakeCheckpoint(3).state);
  EXPECT_EQ(RedisStats(a->Stats()).hits, hits);
  // Erase on one worker removes the shared copy.
  a->Erase(s);
  EXPECT_EQ(Worker(server_)->Get(s), nullptr);
}

TEST_F(RedisTierTest, PrefixLookupThroughRedisFromAnotherWorker) {
  auto a = Worker(server_), b = Worker(server_);
  auto prompt = Prompt(200);
  b->PutPrefix("m", std::span(prompt).first(40), MakeCheckpoint(40));  // B's own, shorter
  a->PutPrefix("m", std::span(prompt).first(150), MakeCheckpoint(150));
  a->PutPrefix("m", std::span(prompt).first(75), MakeCheckpoint(75));
  ASSERT_TRUE(a->Flush().ok());  // background writes done
  auto hit = b->LookupPrefix("m", prompt);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->tokens, 150);  // longer than B's local 40
  EXPECT_EQ(hit->checkpoint->state, MakeCheckpoint(150).state);
  EXPECT_EQ(hit->checkpoint->prefix, std::vector<int32_t>(prompt.begin(), prompt.begin() + 150));
  // Now in B's L1 and index: a second lookup needs no Redis GET.
  int64_t hits = RedisStats(b->Stats()).hits;
  EXPECT_EQ(b->LookupPrefix("m", prompt)->tokens, 150);
  EXPECT_EQ(RedisStats(b->Stats()).hits, hits);
  // A prompt that shares only the first 80 tokens resumes from A's 75-token checkpoint.
  auto other = prompt;
  other[80] += 1;
  auto c = Worker(server_);
  auto partial = c->LookupPrefix("m", other);
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->tokens, 75);
  EXPECT_FALSE(c->LookupPrefix("other-model", prompt).has_value());
}

TEST_F(RedisTierTest, DamagedValueIsAMiss) {
  auto a = Worker(server_), b = Worker(server_);
  CacheKey s = TieredCache::SessionKey("m", "x");
  a->Put(s, Cp(5), Priority::kConversation);
  redisContext* raw = server_.Connect();
  ASSERT_TRUE(raw && !raw->err);
  char key[64];
  std::snprintf(key, sizeof key, "test:e:%016llx", static_cast<unsigned long long>(s));
  auto* r = static_cast<redisReply*>(redisCommand(raw, "SETRANGE %s 200 %b", key, "XYZ", size_t{3}));
  ASSERT_NE(r, nullptr);
  freeReplyObject(r);
  EXPECT_EQ(b->Get(s), nullptr);
  EXPECT_EQ(RedisStats(b->Stats()).corrupt, 1);
  r = static_cast<redisReply*>(redisCommand(raw, "EXISTS %s", key));
  EXPECT_EQ(r->integer, 0);  // dropped
  freeReplyObject(r);
  // Not ours at all (wrong magic): also a miss.
  r = static_cast<redisReply*>(redisCommand(raw, "SET %s %s", key, "garbage-garbage-garbage-garbage-garbage"));
  freeReplyObject(r);
  EXPECT_EQ(b->Get(s), nullptr);
  EXPECT_EQ(RedisStats(b->Stats()).corrupt, 2);
  redisFree(raw);
}

TEST_F(RedisTierTest, HungThenKilledRedisDegradesToLocalThenRecovers) {
  auto r = RedisOptions(server_);
  r.backoff = std::chrono::milliseconds(1000);
  auto a = Worker(server_, r);
  CacheKey s = TieredCache::SessionKey("m", "s");
  a->Put(s, Cp(1), Priority::kConversation);

  // Hung: connections open but nothing answers. Only the first operation in each backoff period
  // pays the command timeout (200 ms); the rest skip Redis at once.
  server_.Pause();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    a->Put(s, Cp(1), Priority::kConversation);
    ASSERT_NE(a->Get(s), nullptr);
    EXPECT_EQ(a->Get(1000 + i), nullptr);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("60 operations against a hung Redis: %.3f s\n", seconds);
  EXPECT_LT(seconds, 1.5) << "60 operations against a hung Redis";  // without the breaker: 60 x 0.2 s
  auto st = RedisStats(a->Stats());
  EXPECT_GE(st.errors, 1);
  EXPECT_GT(st.skipped, 0);

  // Killed: still served locally.
  server_.Stop();
  auto prompt = Prompt(64);
  a->PutPrefix("m", std::span(prompt).first(48), MakeCheckpoint(48));
  for (int i = 0; i < 10; ++i) {
    a->Put(s, Cp(2), Priority::kConversation);
    ASSERT_EQ(a->Get(s)->state, MakeCheckpoint(2).state);
    ASSERT_EQ(a->LookupPrefix("m", prompt)->tokens, 48);
  }
  ASSERT_TRUE(a->Flush().ok());
  int64_t writes = RedisStats(a->Stats()).writes;

  // Restarted (empty): used again once the backoff has passed. The session turn that could not
  // be written meanwhile is written by the retry, so another worker resumes the latest turn.
  ASSERT_TRUE(server_.Start());
  auto b = Worker(server_);
  std::shared_ptr<const Checkpoint> seen;
  for (int i = 0; i < 60 && !(seen && seen->state == MakeCheckpoint(2).state); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = b->Get(s);
  }
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(seen->state, MakeCheckpoint(2).state);
  a->Put(s, Cp(3), Priority::kConversation);
  EXPECT_GE(RedisStats(a->Stats()).writes, writes + 2);
  EXPECT_EQ(b->Get(s)->state, MakeCheckpoint(3).state);
}

TEST_F(RedisTierTest, RefusedSessionWriteIsRetriedButNeverOverANewerTurn) {
  auto a = Worker(server_), b = Worker(server_);
  redisContext* raw = server_.Connect();
  ASSERT_TRUE(raw && !raw->err);
  auto command = [&](const char* fmt, auto... args) {
    auto* r = static_cast<redisReply*>(redisCommand(raw, fmt, args...));
    EXPECT_NE(r, nullptr);
    if (r) freeReplyObject(r);
  };
  CacheKey s = TieredCache::SessionKey("m", "s");
  a->Put(s, Cp(1), Priority::kConversation);
  // Redis refuses writes (out of memory): turn 2 stays local, Redis still has turn 1.
  command("CONFIG SET maxmemory-policy noeviction");
  command("CONFIG SET maxmemory 1");
  a->Put(s, Cp(2), Priority::kConversation);
  EXPECT_GE(RedisStats(a->Stats()).errors, 1);
  command("CONFIG SET maxmemory 0");
  // The retry (every backoff, 300 ms here) writes turn 2.
  std::shared_ptr<const Checkpoint> seen;
  for (int i = 0; i < 40 && !(seen && seen->state == MakeCheckpoint(2).state); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = b->Get(s);
  }
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(seen->state, MakeCheckpoint(2).state);

  // Same again, but another worker writes a newer turn before the retry: the retry must not
  // overwrite it.
  CacheKey other = TieredCache::SessionKey("m", "other");
  b->Put(other, Cp(9), Priority::kConversation);
  command("CONFIG SET maxmemory 1");
  a->Put(s, Cp(4), Priority::kConversation);  // refused: a retry is pending
  char key_s[64], key_other[64];
  std::snprintf(key_s, sizeof key_s, "test:e:%016llx", static_cast<unsigned long long>(s));
  std::snprintf(key_other, sizeof key_other, "test:e:%016llx", static_cast<unsigned long long>(other));
  command("CONFIG SET maxmemory 0");
  command("COPY %s %s REPLACE", key_other, key_s);  // "worker C" wrote turn 9 meanwhile
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // > 2 retry rounds
  EXPECT_EQ(Worker(server_)->Get(s)->state, MakeCheckpoint(9).state);
  redisFree(raw);
}

TEST_F(RedisTierTest, IdleConnectionsClosedByTheServerAreReplacedQuietly) {
  auto a = Worker(server_), b = Worker(server_);
  CacheKey s = TieredCache::SessionKey("m", "idle");
  a->Put(s, Cp(1), Priority::kConversation);
  // As Redis' `timeout` setting or a restarted proxy would: close every client connection.
  redisContext* raw = server_.Connect();
  ASSERT_TRUE(raw && !raw->err);
  auto* r = static_cast<redisReply*>(redisCommand(raw, "CLIENT KILL TYPE normal SKIPME yes"));
  ASSERT_NE(r, nullptr);
  EXPECT_GE(r->integer, 1);
  freeReplyObject(r);
  redisFree(raw);
  // The next operations reconnect; no error, no breaker (a write right after still goes through).
  a->Put(s, Cp(2), Priority::kConversation);
  auto got = b->Get(s);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->state, MakeCheckpoint(2).state);
  auto st = RedisStats(a->Stats());
  EXPECT_EQ(st.errors, 0);
  EXPECT_EQ(st.skipped, 0);
  EXPECT_EQ(st.writes, 2);
}

TEST_F(RedisTierTest, DownAtStartIsNotAnError) {
  server_.Stop();
  auto a = Worker(server_);
  ASSERT_NE(a, nullptr);
  a->Put(1, Cp(1), Priority::kConversation);
  EXPECT_NE(a->Get(1), nullptr);
  EXPECT_GE(RedisStats(a->Stats()).errors, 1);
}

TEST_F(RedisTierTest, ClearRemovesSharedKeys) {
  auto a = Worker(server_), b = Worker(server_);
  a->Put(1, Cp(1), Priority::kConversation);
  auto prompt = Prompt(40);
  a->PutPrefix("m", prompt, MakeCheckpoint(40));
  ASSERT_TRUE(a->Flush().ok());
  b->Clear();
  EXPECT_EQ(a->Stats().tiers[0].entries, 2);  // A's local copies stay
  EXPECT_EQ(Worker(server_)->Get(1), nullptr);
  EXPECT_FALSE(Worker(server_)->LookupPrefix("m", prompt).has_value());
}

TEST(RedisUrlTest, Parses) {
  auto u = ParseRedisUrl("redis://cache.local:6380/3");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "cache.local");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 3);
  u = ParseRedisUrl("redis://:secret@10.0.0.1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->password, "secret");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  EXPECT_FALSE(ParseRedisUrl("http://x").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://x:99999").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://x:1/db").ok());
}

TEST(CircuitBreakerTest, OpensThenLetsOneProbeThrough) {
  CircuitBreaker b(std::chrono::milliseconds(50));
  EXPECT_TRUE(b.Allow());
  b.Failure();
  EXPECT_FALSE(b.Allow());
  EXPECT_TRUE(b.InBackoff());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_TRUE(b.Allow());   // the probe
  EXPECT_FALSE(b.Allow());  // everyone else waits for it
  b.Failure();
  EXPECT_FALSE(b.Allow());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_TRUE(b.Allow());
  b.Success();
  EXPECT_FALSE(b.open());
  EXPECT_TRUE(b.Allow());
  EXPECT_TRUE(b.Allow());
}

}  // namespace
}  // namespace dte
