#pragma once
// RedisTier: the shared tier of the state cache. Every worker of a deployment points at the same
// Redis, so a checkpoint one worker wrote can be resumed on any other (a session continues on any
// worker; a long system prompt is prefilled once per deployment, not once per worker).
//
// Unlike L1-L3 it is not a level of the one-copy stack: TieredCache writes through to it (sessions
// at once, prefix checkpoints in the background) and reads from it when its local tiers miss.
//
// Keys (P = key_prefix):
//   P e:<key hex>    value: 32-byte header (magic "DTRV", version, stamp, payload length,
//                    xxhash64 of the payload) + checkpoint_codec bytes. Any damage -> miss.
//   P t:<chain hex>  a set of tail lengths: the prefix checkpoints that end `tail` tokens after
//                    the block-aligned prefix whose PrefixIndex chain hash is <chain>. A lookup
//                    asks for the sets of all the prompt's block boundaries in one pipeline, then
//                    GETs candidates longest first: two round trips when the first candidate is
//                    good. A fetched checkpoint's model id and tokens are compared with the prompt.
// Both carry the TTL. Workers must agree on block_tokens and key_prefix.
//
// The stamp: every write gets a fresh random 64-bit stamp; the tier remembers the stamp of each
// session it wrote or read, so TieredCache can tell a local session copy that another worker has
// since replaced (NewerThanLocal reads the 32-byte header) from a current one.
//
// A session write that fails (Redis down, hung, out of memory) would leave the previous turn in
// Redis, and another worker would resume that stale state. So the session is kept as "dirty" and
// the writer thread writes it again once Redis answers, with a script that only replaces the
// value if Redis still holds the stamp this worker last saw there (or nothing): a newer turn
// written meanwhile by anyone is never overwritten. (If this worker dies first, the stale turn
// stays: Redis is a cache, not a log.)
//
// Outage: see RedisClient. Nothing here fails a caller: an unavailable Redis is a miss, a write
// that cannot happen is dropped and counted.
//
// Thread-safe. One background thread runs the queued writes.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "base/status.h"
#include "cache/cache_stats.h"
#include "cache/checkpoint_codec.h"
#include "cache/prefix_index.h"
#include "cache/redis_client.h"

namespace dte {

struct RedisTierOptions {
  std::string url = "redis://127.0.0.1:6379";  // redis://[:password@]host[:port][/db]
  std::string key_prefix = "dte:cache:";
  std::chrono::seconds ttl{24 * 3600};           // 0: keys never expire (Redis' maxmemory policy rules)
  std::chrono::milliseconds connect_timeout{50};
  std::chrono::milliseconds command_timeout{200};
  std::chrono::milliseconds backoff{1000};       // how long the breaker skips Redis after a failure
  int pool_size = 4;                             // connections (each used by one thread at a time)
  size_t max_value_bytes = size_t{64} << 20;     // larger encoded checkpoints are not written
  size_t write_queue_bytes = size_t{256} << 20;  // background writes waiting (raw bytes); beyond: dropped
  bool sync_session_writes = true;               // a session Put returns after Redis has it
                                                 // (false: background, like prefixes)
  bool write_prefixes = true;                    // PutPrefix checkpoints go to Redis (background)
  bool write_all = false;                        // every Put, not only sessions (background)
  bool check_sessions = true;                    // a local session hit checks Redis for a newer copy
  CodecOptions codec;                            // encoding of values (lossless lz4 by default)
};

class RedisTier {
 public:
  static Result<std::unique_ptr<RedisTier>> Open(const RedisTierOptions& options);
  ~RedisTier();  // stops the writer; writes still queued are dropped (TieredCache::Flush drains)

  const RedisTierOptions& options() const { return options_; }

  // Writes now (sessions). `where` is set for a prefix checkpoint (its index entry). A session
  // whose write fails is remembered and written again once Redis answers (see Dirty).
  bool Write(CacheKey key, std::shared_ptr<const Checkpoint> cp, Priority priority,
             std::optional<PrefixIndex::Location> where);
  // Queues a write for the background thread; false (counted) when the queue is full.
  bool WriteAsync(CacheKey key, std::shared_ptr<const Checkpoint> cp, Priority priority,
                  std::optional<PrefixIndex::Location> where);
  // Waits until every write queued so far has been done or dropped.
  void Drain();

  struct Found {
    std::shared_ptr<const Checkpoint> checkpoint;
    Priority priority = Priority::kGeneral;
  };
  std::optional<Found> Get(CacheKey key);

  // For a session found locally: nullopt when the local copy is current (or Redis has none or is
  // unreachable); otherwise the newer copy from Redis.
  std::optional<Found> NewerThanLocal(CacheKey key);

  struct PrefixFound {
    int64_t tokens = 0;
    CacheKey key = 0;
    Found found;
  };
  // The longest prefix of `tokens`, longer than `min_tokens`, that Redis holds a checkpoint for.
  std::optional<PrefixFound> LookupPrefix(const PrefixIndex& index, std::string_view model_id,
                                          std::span<const int32_t> tokens, int64_t min_tokens);

  void Erase(CacheKey key);
  // Drops queued writes and deletes every key under key_prefix (SCAN + UNLINK).
  void Clear();
  TierStats Stats() const;
  bool available() const { return !client_.breaker_open(); }
  size_t dirty_sessions();  // sessions waiting to be written again

 private:
  struct Pending {
    CacheKey key;
    std::shared_ptr<const Checkpoint> checkpoint;
    Priority priority;
    std::optional<PrefixIndex::Location> where;
    size_t bytes;
  };
  // A session whose latest write did not reach Redis.
  struct Dirty {
    std::shared_ptr<const Checkpoint> checkpoint;
    Priority priority;
    std::optional<uint64_t> expected;  // the stamp Redis held before (nullopt: none known)
  };
  enum class Outcome { kWritten, kFailed, kRefused, kSuperseded };

  // Encodes and writes. With `only_over` given, writes only if the value in Redis has stamp
  // *only_over (nullopt: never matches) or there is none (kSuperseded otherwise). *stamp gets the
  // new value's stamp.
  Outcome Store(CacheKey key, const Checkpoint& cp, Priority priority, std::optional<PrefixIndex::Location> where,
                const std::optional<uint64_t>* only_over, uint64_t* stamp);
  void MarkDirty(CacheKey key, std::shared_ptr<const Checkpoint> cp, Priority priority);
  void RetryDirty();

  explicit RedisTier(const RedisTierOptions& options, const RedisUrl& url);
  std::string EntryKey(CacheKey key) const;
  std::string TailSetKey(uint64_t chain) const;
  uint64_t NewStamp();
  // Parses a value; nullopt (counted corrupt, key deleted) when damaged.
  std::optional<Found> Decode(CacheKey key, const redisReply& reply, uint64_t* stamp);
  void NoteStamp(CacheKey key, uint64_t stamp);
  void WriterLoop();

  const RedisTierOptions options_;
  RedisClient client_;
  std::atomic<uint64_t> stamp_counter_{0};
  uint64_t stamp_seed_ = 0;

  std::mutex stamps_mu_;
  std::unordered_map<CacheKey, uint64_t> stamps_;  // GUARDED_BY(stamps_mu_): sessions seen here
  std::mutex dirty_mu_;
  std::unordered_map<CacheKey, Dirty> dirty_;      // GUARDED_BY(dirty_mu_)

  std::mutex queue_mu_;
  std::condition_variable queue_cv_, drained_cv_;
  std::deque<Pending> queue_;  // GUARDED_BY(queue_mu_)
  size_t queued_bytes_ = 0;    // GUARDED_BY(queue_mu_)
  bool writing_ = false;       // GUARDED_BY(queue_mu_): the writer holds a popped entry
  bool stop_ = false;          // GUARDED_BY(queue_mu_)
  std::thread writer_;

  TierCounters counters_;  // errors/skipped: the tier's own; the client's are added in Stats
};

}  // namespace dte
