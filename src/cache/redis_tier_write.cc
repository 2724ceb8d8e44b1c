// RedisTier's write side: encoding and SET, the background writer, and sessions whose write
// failed ("dirty"), written again once Redis answers. See redis_tier.h.

#include <cstring>

#include <xxhash.h>

#include "base/clock.h"
#include "base/log.h"
#include "cache/redis_tier.h"
#include "cache/redis_value.h"

namespace dte {

namespace {

// Replaces KEYS[1] with ARGV[2] (PX ARGV[3] unless "0") only if its stamp is ARGV[1] or it does
// not exist. Atomic in Redis.
constexpr std::string_view kSetIfStampScript =
    "local cur = redis.call('GETRANGE', KEYS[1], 8, 15)\n"
    "if cur == '' or cur == ARGV[1] then\n"
    "  if ARGV[3] == '0' then redis.call('SET', KEYS[1], ARGV[2])\n"
    "  else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

constexpr size_t kMaxDirty = 4096;     // sessions remembered for a retry
constexpr size_t kRetryBatch = 256;    // written per retry round

}  // namespace

RedisTier::Outcome RedisTier::Store(CacheKey key, const Checkpoint& cp, Priority priority,
                                    std::optional<PrefixIndex::Location> where,
                                    const std::optional<uint64_t>* only_over, uint64_t* stamp) {
  if (client_.in_backoff()) {  // do not even encode
    counters_.skipped.fetch_add(1, std::memory_order_relaxed);
    return Outcome::kFailed;
  }
  std::vector<uint8_t> payload = EncodeCheckpoint(cp, priority, options_.codec);
  if (payload.size() + sizeof(redis_value::Header) > options_.max_value_bytes) {
    counters_.rejections.fetch_add(1, std::memory_order_relaxed);
    return Outcome::kRefused;
  }
  redis_value::Header h{redis_value::kMagic, redis_value::kVersion, NewStamp(), payload.size(),
                        XXH64(payload.data(), payload.size(), redis_value::kSeed)};
  *stamp = h.stamp;
  std::string value(sizeof h + payload.size(), '\0');
  std::memcpy(value.data(), &h, sizeof h);
  std::memcpy(value.data() + sizeof h, payload.data(), payload.size());
  payload = {};

  std::string entry = EntryKey(key);
  std::string ttl_ms = std::to_string(options_.ttl.count() * 1000);
  std::string tail_set, tail, expected;
  std::vector<RedisClient::Command> cmds;
  if (only_over) {
    if (only_over->has_value()) expected.assign(reinterpret_cast<const char*>(&**only_over), 8);
    cmds.push_back({"EVAL", kSetIfStampScript, "1", entry, expected, value, ttl_ms});
  } else {
    if (options_.ttl.count() > 0) cmds.push_back({"SET", entry, value, "PX", ttl_ms});
    else cmds.push_back({"SET", entry, value});
    if (where) {
      tail_set = TailSetKey(where->chain);
      tail = std::to_string(where->tail_tokens);
      cmds.push_back({"SADD", tail_set, tail});
      if (options_.ttl.count() > 0) cmds.push_back({"PEXPIRE", tail_set, ttl_ms});
    }
  }
  auto replies = client_.Run(cmds);
  if (!replies.ok()) return Outcome::kFailed;  // counted by the client
  for (const RedisReplyPtr& r : *replies) {
    if (r->type == REDIS_REPLY_ERROR) {  // e.g. OOM under maxmemory
      counters_.errors.fetch_add(1, std::memory_order_relaxed);
      return Outcome::kFailed;
    }
  }
  if (only_over && (*replies)[0]->integer == 0) return Outcome::kSuperseded;
  counters_.writes.fetch_add(1, std::memory_order_relaxed);
  counters_.bytes_written.fetch_add(static_cast<int64_t>(value.size()), std::memory_order_relaxed);
  return Outcome::kWritten;
}

bool RedisTier::Write(CacheKey key, std::shared_ptr<const Checkpoint> cp, Priority priority,
                      std::optional<PrefixIndex::Location> where) {
  uint64_t stamp = 0;
  Outcome o = Store(key, *cp, priority, where, nullptr, &stamp);
  if (priority != Priority::kConversation) return o == Outcome::kWritten;
  if (o == Outcome::kWritten) {
    NoteStamp(key, stamp);
    std::lock_guard lock(dirty_mu_);
    dirty_.erase(key);
  } else if (o == Outcome::kFailed) {
    MarkDirty(key, std::move(cp), priority);
  }
  return o == Outcome::kWritten;
}

void RedisTier::MarkDirty(CacheKey key, std::shared_ptr<const Checkpoint> cp, Priority priority) {
  std::optional<uint64_t> expected;
  {
    std::lock_guard lock(stamps_mu_);
    if (auto it = stamps_.find(key); it != stamps_.end()) expected = it->second;
  }
  std::lock_guard lock(dirty_mu_);
  if (auto it = dirty_.find(key); it != dirty_.end()) {
    // Redis still holds the version from before the first failure: keep that stamp.
    it->second.checkpoint = std::move(cp);
    it->second.priority = priority;
    return;
  }
  if (dirty_.size() >= kMaxDirty) {
    counters_.rejections.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  dirty_.emplace(key, Dirty{std::move(cp), priority, expected});
}

void RedisTier::RetryDirty() {
  if (client_.in_backoff()) return;
  std::vector<std::pair<CacheKey, Dirty>> todo;
  {
    std::lock_guard lock(dirty_mu_);
    for (const auto& [key, d] : dirty_) {
      if (todo.size() >= kRetryBatch) break;
      todo.emplace_back(key, d);
    }
  }
  for (auto& [key, d] : todo) {
    uint64_t stamp = 0;
    Outcome o = Store(key, *d.checkpoint, d.priority, std::nullopt, &d.expected, &stamp);
    if (o == Outcome::kFailed) return;  // still unavailable: next round
    {
      std::lock_guard lock(dirty_mu_);
      auto it = dirty_.find(key);
      if (it != dirty_.end() && it->second.checkpoint == d.checkpoint) {
        dirty_.erase(it);
      } else if (it != dirty_.end() && o == Outcome::kWritten) {
        it->second.expected = stamp;  // a newer turn failed meanwhile: it may replace this one
      }
    }
    if (o == Outcome::kWritten) NoteStamp(key, stamp);
  }
}

size_t RedisTier::dirty_sessions() {
  std::lock_guard lock(dirty_mu_);
  return dirty_.size();
}

bool RedisTier::WriteAsync(CacheKey key, std::shared_ptr<const Checkpoint> cp, Priority priority,
                           std::optional<PrefixIndex::Location> where) {
  size_t bytes = cp->bytes();
  {
    std::lock_guard lock(queue_mu_);
    if (!stop_ && queued_bytes_ + bytes <= options_.write_queue_bytes) {
      queued_bytes_ += bytes;
      queue_.push_back(Pending{key, std::move(cp), priority, where, bytes});
      queue_cv_.notify_one();
      return true;
    }
  }
  counters_.rejections.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void RedisTier::WriterLoop() {
  auto last_retry = SteadyClock::now();
  for (;;) {
    Pending p;
    bool have = false;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait_for(lock, options_.backoff, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      if (!queue_.empty()) {
        p = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        have = true;
      }
    }
    if (have) {
      (void)Write(p.key, p.checkpoint, p.priority, p.where);
      std::lock_guard lock(queue_mu_);
      writing_ = false;
      queued_bytes_ -= p.bytes;
      if (queue_.empty()) drained_cv_.notify_all();
    }
    if (SteadyClock::now() - last_retry >= options_.backoff) {
      RetryDirty();
      last_retry = SteadyClock::now();
    }
  }
}

}  // namespace dte
