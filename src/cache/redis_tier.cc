#include "cache/redis_tier.h"
#include "cache/redis_value.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>

#include <xxhash.h>

#include "base/clock.h"
#include "base/log.h"

namespace dte {

namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string_view View(const redisReply& r) { return std::string_view(r.str, r.len); }

// A key prefix as a SCAN MATCH pattern: glob characters escaped, then "*".
std::string GlobOf(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('*');
  return out;
}

int64_t ElapsedNs(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count();
}

}  // namespace

RedisTier::RedisTier(const RedisTierOptions& options, const RedisUrl& url)
    : options_(options),
      client_(RedisClientOptions{url, options.connect_timeout, options.command_timeout, options.backoff,
                                 std::max(1, options.pool_size)}) {
  std::random_device rd;
  stamp_seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

Result<std::unique_ptr<RedisTier>> RedisTier::Open(const RedisTierOptions& options) {
  DTE_ASSIGN_OR_RETURN(RedisUrl url, ParseRedisUrl(options.url));
  std::unique_ptr<RedisTier> tier(new RedisTier(options, url));
  // Not fatal: a Redis that is down at start is an outage like any other (the breaker opens).
  auto ping = tier->client_.Run({{"PING"}});
  if (ping.ok()) LogInfo("state cache: shared tier at " + url.host + ":" + std::to_string(url.port));
  tier->writer_ = std::thread([t = tier.get()] { t->WriterLoop(); });
  return tier;
}

RedisTier::~RedisTier() {
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  drained_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::string RedisTier::EntryKey(CacheKey key) const { return options_.key_prefix + "e:" + Hex(key); }
std::string RedisTier::TailSetKey(uint64_t chain) const { return options_.key_prefix + "t:" + Hex(chain); }

uint64_t RedisTier::NewStamp() {
  uint64_t n = stamp_counter_.fetch_add(1, std::memory_order_relaxed);
  return XXH64(&n, sizeof n, stamp_seed_) | 1;
}

void RedisTier::NoteStamp(CacheKey key, uint64_t stamp) {
  std::lock_guard lock(stamps_mu_);
  if (stamps_.size() >= (size_t{1} << 20)) stamps_.clear();  // bounded; a forgotten stamp costs one refetch
  stamps_[key] = stamp;
}

void RedisTier::Drain() {
  std::unique_lock lock(queue_mu_);
  drained_cv_.wait(lock, [&] { return stop_ || (queue_.empty() && !writing_); });
}

std::optional<RedisTier::Found> RedisTier::Decode(CacheKey key, const redisReply& reply, uint64_t* stamp) {
  std::string_view v = View(reply);
  redis_value::Header h{};
  std::optional<Found> out;
  if (v.size() >= sizeof h) {
    std::memcpy(&h, v.data(), sizeof h);
    std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(v.data()) + sizeof h, v.size() - sizeof h);
    if (h.magic == redis_value::kMagic && h.version == redis_value::kVersion && h.payload == payload.size() &&
        XXH64(payload.data(), payload.size(), redis_value::kSeed) == h.checksum) {
      Result<DecodedCheckpoint> d = DecodeCheckpoint(payload);
      if (d.ok()) out = Found{std::make_shared<const Checkpoint>(std::move(d->checkpoint)), d->priority};
    }
  }
  if (!out) {
    LogWarning("redis: dropping damaged entry " + EntryKey(key));
    counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
    (void)client_.Run({{"DEL", EntryKey(key)}});
    return std::nullopt;
  }
  *stamp = h.stamp;
  return out;
}

std::optional<RedisTier::Found> RedisTier::Get(CacheKey key) {
  auto start = SteadyClock::now();
  std::string entry = EntryKey(key);
  auto replies = client_.Run({{"GET", entry}});
  if (!replies.ok()) return std::nullopt;  // counted by the client (error or skipped)
  const redisReply& r = *(*replies)[0];
  if (r.type != REDIS_REPLY_STRING) {
    if (r.type == REDIS_REPLY_ERROR) counters_.errors.fetch_add(1, std::memory_order_relaxed);
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  uint64_t stamp = 0;
  std::optional<Found> found = Decode(key, r, &stamp);
  if (!found) {
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  if (found->priority == Priority::kConversation) NoteStamp(key, stamp);
  counters_.get_latency.Record(ElapsedNs(start));
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  return found;
}

std::optional<RedisTier::Found> RedisTier::NewerThanLocal(CacheKey key) {
  std::optional<uint64_t> known;
  {
    std::lock_guard lock(stamps_mu_);
    if (auto it = stamps_.find(key); it != stamps_.end()) known = it->second;
  }
  std::string entry = EntryKey(key);
  std::string last = std::to_string(sizeof(redis_value::Header) - 1);
  auto replies = client_.Run({{"GETRANGE", entry, "0", last}});
  if (!replies.ok()) return std::nullopt;
  const redisReply& r = *(*replies)[0];
  if (r.type != REDIS_REPLY_STRING || r.len != sizeof(redis_value::Header)) return std::nullopt;  // none: keep local
  redis_value::Header h;
  std::memcpy(&h, r.str, sizeof h);
  if (h.magic == redis_value::kMagic && known && *known == h.stamp) return std::nullopt;
  return Get(key);  // another worker wrote it since (or this one never saw it): take Redis' copy
}

std::optional<RedisTier::PrefixFound> RedisTier::LookupPrefix(const PrefixIndex& index, std::string_view model_id,
                                                              std::span<const int32_t> tokens, int64_t min_tokens) {
  if (client_.in_backoff()) {
    counters_.skipped.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  const int64_t block = index.block_tokens();
  std::vector<uint64_t> chains = index.ChainHashes(model_id, tokens);
  // Nodes that can hold a checkpoint longer than min_tokens: i * block + block - 1 > min_tokens.
  size_t first = 0;
  while (static_cast<int64_t>(first) * block + block - 1 <= min_tokens) ++first;
  if (first >= chains.size()) return std::nullopt;
  std::vector<std::string> set_keys;
  std::vector<RedisClient::Command> cmds;
  for (size_t i = first; i < chains.size(); ++i) set_keys.push_back(TailSetKey(chains[i]));
  for (const std::string& k : set_keys) cmds.push_back({"SMEMBERS", k});
  auto replies = client_.Run(cmds);
  if (!replies.ok()) return std::nullopt;

  struct Candidate {
    int64_t tokens;
    CacheKey key;
    size_t node;
  };
  std::vector<Candidate> candidates;
  for (size_t j = 0; j < replies->size(); ++j) {
    const redisReply& r = *(*replies)[j];
    if (r.type != REDIS_REPLY_ARRAY) continue;
    size_t i = first + j;
    for (size_t e = 0; e < r.elements; ++e) {
      const redisReply& m = *r.element[e];
      if (m.type != REDIS_REPLY_STRING) continue;
      int64_t tail = -1;
      std::from_chars(m.str, m.str + m.len, tail);
      int64_t n = static_cast<int64_t>(i) * block + tail;
      if (tail < 0 || tail >= block || n <= min_tokens || n > static_cast<int64_t>(tokens.size()) || n == 0) continue;
      candidates.push_back({n, PrefixIndex::TailKey(chains[i], tokens.subspan(i * block, tail)), i});
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.tokens > b.tokens; });
  constexpr size_t kMaxTries = 4;  // stale members are rare; bound the round trips anyway
  for (size_t c = 0; c < candidates.size() && c < kMaxTries; ++c) {
    std::optional<Found> f = Get(candidates[c].key);
    if (!f) {
      // Expired or evicted by Redis: forget it in the set (best effort).
      std::string tail = std::to_string(candidates[c].tokens - static_cast<int64_t>(candidates[c].node) * block);
      (void)client_.Run({{"SREM", set_keys[candidates[c].node - first], tail}});
      continue;
    }
    const Checkpoint& cp = *f->checkpoint;
    int64_t n = candidates[c].tokens;
    if (cp.model_id != model_id || cp.prefix.size() != static_cast<size_t>(n) ||
        !std::equal(cp.prefix.begin(), cp.prefix.end(), tokens.begin()))
      continue;  // a 64-bit collision: never serve another prompt's state
    return PrefixFound{n, candidates[c].key, std::move(*f)};
  }
  if (candidates.empty()) counters_.misses.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

void RedisTier::Erase(CacheKey key) {
  {
    std::lock_guard lock(stamps_mu_);
    stamps_.erase(key);
  }
  {
    std::lock_guard lock(dirty_mu_);
    dirty_.erase(key);
  }
  std::string entry = EntryKey(key);
  (void)client_.Run({{"DEL", entry}});
}

void RedisTier::Clear() {
  {
    std::lock_guard lock(queue_mu_);
    for (const Pending& p : queue_) queued_bytes_ -= p.bytes;
    queue_.clear();
    if (!writing_) drained_cv_.notify_all();
  }
  {
    std::lock_guard lock(stamps_mu_);
    stamps_.clear();
  }
  {
    std::lock_guard lock(dirty_mu_);
    dirty_.clear();
  }
  std::string pattern = GlobOf(options_.key_prefix);
  std::string cursor = "0";
  do {
    auto replies = client_.Run({{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}});
    if (!replies.ok()) return;
    const redisReply& r = *(*replies)[0];
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 || r.element[1]->type != REDIS_REPLY_ARRAY) return;
    cursor = std::string(View(*r.element[0]));
    const redisReply& keys = *r.element[1];
    if (keys.elements == 0) continue;
    RedisClient::Command unlink{"UNLINK"};
    for (size_t i = 0; i < keys.elements; ++i) unlink.push_back(View(*keys.element[i]));
    (void)client_.Run({unlink});
  } while (cursor != "0");
}

TierStats RedisTier::Stats() const {
  TierStats s;
  s.name = "redis";
  counters_.Fill(&s);
  s.errors += client_.errors();
  s.skipped += client_.skipped();
  return s;
}

}  // namespace dte
