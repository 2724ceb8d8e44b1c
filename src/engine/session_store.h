#pragma once
// Conversations kept as RWKV states, so a turn continues in O(1) instead of re-reading history.
//
// A session is a State plus bookkeeping. A request on a session *acquires* it (the state moves
// out to the request's sequence: no copy) and *releases* it when done, with the updated state.
// While acquired the session is busy: a second request gets a Conflict (HTTP 409) at once
// rather than waiting, so a client can never interleave two turns of one conversation.
// Idle sessions expire after `idle_ttl`; at most `max_sessions` exist (creating one more
// evicts the least recently used idle session, or fails if all are busy).
//
// Thread-safe (one mutex; every operation is O(1) or O(log n) apart from ExpireIdle).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
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
  SessionStore(SessionOptions options, std::function<Clock::time_point()> now = Clock::now);

  // A new idle session holding `state`. ResourceExhausted when full of busy sessions.
  Result<std::string> Create(State state);
  // Takes the session for one request. NotFound / Conflict (busy).
  Result<SessionLease> Acquire(const std::string& id);
  // Returns the session after a request. `completed` counts a turn; an aborted request passes
  // the state it had before (the caller keeps a backup). A session deleted while busy is
  // dropped here.
  void Release(SessionLease lease, int64_t tokens_added, bool completed);
  Status Delete(const std::string& id);
  std::optional<SessionInfo> Get(const std::string& id) const;

  // Drops sessions idle for longer than the TTL; returns how many.
  size_t ExpireIdle();
  size_t size() const;
  size_t state_bytes() const;

 private:
  struct Entry {
    SessionInfo info;
    std::optional<SessionLease> lease;  // present while idle
    bool deleted = false;               // deleted while busy: drop on release
  };
  bool EvictOneIdleLocked();

  const SessionOptions options_;
  const std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> sessions_;  // guarded by mu_
  size_t state_bytes_ = 0;                               // guarded by mu_
  uint64_t id_counter_ = 0;                              // guarded by mu_
};

}  // namespace dte
