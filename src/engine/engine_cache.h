#pragma once
// The engine's side of the state cache (src/cache TieredCache): resumes prompts from cached
// prefix checkpoints, takes new checkpoints, and moves sessions in and out of the cache.
//
// Checkpoint policy (see docs/state_cache.md): a checkpoint (state + logits after the last token)
// at the end of every prompt, at chat-turn boundaries (GenerationRequest::checkpoint_offsets) and
// every `checkpoint_interval` tokens of a long prompt, for sequences whose state started fresh.
//
// Writing is asynchronous: the scheduler thread only copies the state and logits (a memcpy of a
// few MiB, into recycled buffers) and queues them; one writer thread puts them into the cache, so
// L1 evictions (L2 compression, L3 fsync) never stall a step. Prefix checkpoints beyond
// `max_pending_bytes` of queued data are dropped (counted); sessions are never dropped. A session
// queued for writing is visible to TakeSession at once (no window where it is in neither place).
//
// Thread-safe: every method may be called from any thread.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cache/tiered_cache.h"
#include "engine/session_store.h"
#include "model/config.h"
#include "model/state.h"

namespace dte {

struct StateCacheOptions {
  std::shared_ptr<TieredCache> cache;  // null: no state cache
  std::string model_id;                // cache namespace; empty: derived from the model's shape
  int64_t checkpoint_interval = 2048;  // K: a checkpoint every K prompt tokens; 0: none
  bool checkpoint_prompts = true;      // false: read prefix checkpoints, never write them
  bool session_write_through = false;  // write a session to the cache after every turn
  size_t max_pending_bytes = size_t{256} << 20;
};

struct StateCacheCounters {
  int64_t prefix_lookups = 0;
  int64_t prefix_hits = 0;
  int64_t prefix_hit_tokens = 0;    // prompt tokens not prefilled thanks to a hit
  int64_t checkpoints = 0;          // prefix checkpoints queued
  int64_t checkpoints_dropped = 0;  // ... and dropped (writer too far behind)
  int64_t session_writes = 0;       // sessions written (eviction, write-through, shutdown)
  int64_t sessions_restored = 0;
  double capture_seconds = 0;  // caller-side cost of checkpoints (copies), total
  double put_seconds = 0;      // writer-side cost of cache puts, total
  int64_t pending_bytes = 0;
};

class EngineCache {
 public:
  EngineCache(StateCacheOptions options, const ModelConfig& config);
  ~EngineCache();  // writes what is queued, then stops the writer
  EngineCache(const EngineCache&) = delete;
  EngineCache& operator=(const EngineCache&) = delete;

  struct Resume {
    int64_t tokens = 0;  // prompt tokens covered by `state`
    State state;
    std::vector<float> logits;  // n_vocab floats after those tokens (empty if not cached)
    // The tier that served it, for traces: "l1", "l2", "l3" or "redis".
    std::string tier;
  };
  // The longest cached prefix of `prompt` whose state fits this model, or nullopt.
  std::optional<Resume> LookupPrefix(std::span<const int32_t> prompt);
  // Queues a checkpoint of `state` after `prefix` (copies state and logits).
  void PutPrefix(std::span<const int32_t> prefix, const State& state,
                 std::span<const float> logits);

  // Queues a session for writing; `on_written` (if any) runs on the writer thread once it is in
  // the cache (with a shared tier: in Redis), so a reply can wait for it.
  void PutSession(const SessionInfo& info, SessionLease lease,
                  std::function<void()> on_written = nullptr);
  // The same, written on the calling thread before returning (a new session with a shared tier).
  void PutSessionNow(const SessionInfo& info, SessionLease lease);
  void NoteRestored();
  // A session from the cache (or the write queue); nullopt if absent or unreadable (a damaged
  // entry is dropped). It is removed from the cache (moved into the caller's store), except with
  // session_write_through, where the cached copy stays the shared one every worker reads.
  // nullopt (and nothing removed) when the cached copy has seen at most `newer_than_tokens`
  // tokens: a cheap check whether another worker has continued the session.
  std::optional<std::pair<SessionInfo, SessionLease>> TakeSession(const std::string& id,
                                                                  int64_t newer_than_tokens = -1);
  void EraseSession(const std::string& id);

  // Waits until every queued write is in the cache.
  void Drain();
  // Drain, then TieredCache::Flush: queued Redis writes are waited for and L1/L2 move down to
  // L3 (when there is one), so the next process starts warm.
  Status Flush();

  StateCacheCounters Counters() const;
  const StateCacheOptions& options() const { return options_; }
  const std::string& model_id() const { return model_id_; }
  TieredCache& cache() { return *options_.cache; }

 private:
  struct SessionJob {
    SessionInfo info;
    SessionLease lease;
    std::function<void()> on_written;
    bool cancelled = false;  // guarded by session_mu_
  };
  // A copy of a sequence's state and logits taken on the scheduler thread. Recycled, so the copy
  // lands in memory already touched; the writer makes the cache's own (fresh) copy.
  struct Capture {
    State state;
    std::vector<float> logits;
  };
  struct Job {
    std::vector<int32_t> prefix;  // prefix checkpoints
    std::unique_ptr<Capture> capture;
    std::shared_ptr<SessionJob> session;  // or a session
    size_t bytes = 0;
  };
  void Enqueue(std::unique_ptr<Job> job);
  void Run();
  void Execute(Job& job);

  const StateCacheOptions options_;
  const ModelConfig config_;
  const std::string model_id_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_, idle_cv_;
  std::deque<std::unique_ptr<Job>> queue_;                // guarded by mu_
  bool busy_ = false, stop_ = false;                      // guarded by mu_
  size_t pending_bytes_ = 0;                              // guarded by mu_
  std::vector<std::unique_ptr<Capture>> spare_captures_;  // guarded by mu_

  // Serializes session moves (writer put vs. TakeSession) so a session is never in neither place.
  std::mutex session_mu_;
  std::unordered_map<CacheKey, std::shared_ptr<SessionJob>>
      pending_sessions_;  // guarded by session_mu_

  mutable std::mutex counters_mu_;
  StateCacheCounters counters_;  // guarded by counters_mu_
  std::thread writer_;
};

}  // namespace dte
