#pragma once
// Conversations kept as RWKV states, so a turn continues in O(1) instead of re-reading history.
//
// A session is a State plus bookkeeping. A request on a session *acquires* it (the state moves
// out to the request's sequence: no copy) and *releases* it when done, with the updated state.
// While acquired the session is busy: a second request gets a Conflict (HTTP 409) at once
// rather than waiting, so a client can never interleave two turns of one conversation.
// Idle sessions expire after `idle_ttl`; at most `max_sessions` exist (creating one more
// evicts the least recently used idle session, or fails if all are busy). An eviction handler
// (the engine's state cache) receives every session that expires or is evicted, instead of it
// being dropped; Restore puts one back (e.g. read from the cache after a restart).
//
// Thread-safe (one mutex; every operation is O(1) or O(log n) apart from ExpireIdle and
// DrainIdle). The eviction handler runs on the calling thread after the mutex is released.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/state.h"

namespace dte {

struct SessionOptions {
  size_t max_sessions = 10000;
  std::chrono::seconds idle_ttl{30 * 60};
};

struct SessionInfo {
  std::string id;
  int64_t turns = 0;   // completed requests
  int64_t tokens = 0;  // tokens the state has consumed (plus pending ones)
  size_t state_bytes = 0;
  std::chrono::system_clock::time_point created, last_used;
  bool busy = false;
  bool ended_with_stop = true;  // the last turn ended on a stop (its separator is in the history)
};

// What a request takes out of a session.
struct SessionLease {
  std::string id;
  State state;
  // Tokens sampled at the end of the previous turn but not yet run through the model; the next
  // turn feeds them first.
  std::vector<int32_t> pending_tokens;
  bool ended_with_stop = true;
};

class SessionStore {
 public:
  using Clock = std::chrono::system_clock;
  using EvictionHandler = std::function<void(const SessionInfo& info, SessionLease lease)>;
  SessionStore(SessionOptions options, std::function<Clock::time_point()> now = Clock::now);

  // Receives sessions that expire or are evicted for room (set once, before use).
  void SetEvictionHandler(EvictionHandler handler) { on_evict_ = std::move(handler); }

  // A new idle session holding `state`. ResourceExhausted when full of busy sessions.
  Result<std::string> Create(State state);
  // Puts back an idle session under its own id (info.id == lease.id), keeping its counters.
  // Conflict when a session with that id is held; ResourceExhausted when full of busy ones.
  Status Restore(SessionInfo info, SessionLease lease);
  // Takes the session for one request. NotFound / Conflict (busy).
  Result<SessionLease> Acquire(const std::string& id);
  // Returns the session after a request. `completed` counts a turn; an aborted request passes
  // the state it had before (the caller keeps a backup). A session deleted while busy is
  // dropped here (nullopt). Returns the session's updated info.
  std::optional<SessionInfo> Release(SessionLease lease, int64_t tokens_added, bool completed);
  Status Delete(const std::string& id);
  std::optional<SessionInfo> Get(const std::string& id) const;

  // Evicts sessions idle for longer than the TTL (to the handler); returns how many.
  size_t ExpireIdle();
  // Removes and returns every idle session (shutdown: the engine writes them to its cache).
  std::vector<std::pair<SessionInfo, SessionLease>> DrainIdle();
  size_t size() const;
  size_t state_bytes() const;

 private:
  struct Entry {
    SessionInfo info;
    std::optional<SessionLease> lease;  // present while idle
    bool deleted = false;               // deleted while busy: drop on release
  };
  using Evicted = std::vector<std::pair<SessionInfo, SessionLease>>;
  // Moves the least recently used idle session into *out; false when all are busy.
  bool EvictOneIdleLocked(Evicted* out);
  void HandOver(Evicted evicted);

  const SessionOptions options_;
  const std::function<Clock::time_point()> now_;
  EvictionHandler on_evict_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> sessions_;  // guarded by mu_
  size_t state_bytes_ = 0;                               // guarded by mu_
  uint64_t id_counter_ = 0;                              // guarded by mu_
};

}  // namespace dte
