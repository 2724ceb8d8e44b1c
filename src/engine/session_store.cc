#include "engine/session_store.h"

#include <cstdio>
#include <random>

namespace dte {
namespace {

std::string NewSessionId(uint64_t counter) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  std::snprintf(buf, sizeof(buf), "sess_%016llx%08llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(counter & 0xffffffffu));
  return buf;
}

}  // namespace

SessionStore::SessionStore(SessionOptions options, std::function<Clock::time_point()> now)
    : options_(options), now_(std::move(now)) {}

Result<std::string> SessionStore::Create(State state) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= options_.max_sessions && !EvictOneIdleLocked())
    return Status::ResourceExhausted("all " + std::to_string(options_.max_sessions) + " sessions are busy");
  std::string id = NewSessionId(++id_counter_);
  Entry e;
  e.info.id = id;
  e.info.created = e.info.last_used = now_();
  e.info.state_bytes = state.bytes();
  state_bytes_ += state.bytes();
  e.lease = SessionLease{id, std::move(state), {}, true};
  sessions_.emplace(id, std::move(e));
  return id;
}

bool SessionStore::EvictOneIdleLocked() {
  auto victim = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (!it->second.lease) continue;  // busy
    if (victim == sessions_.end() || it->second.info.last_used < victim->second.info.last_used) victim = it;
  }
  if (victim == sessions_.end()) return false;
  state_bytes_ -= victim->second.info.state_bytes;
  sessions_.erase(victim);
  return true;
}

Result<SessionLease> SessionStore::Acquire(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.deleted) return Status::NotFound("no session '" + id + "'");
  Entry& e = it->second;
  if (!e.lease)
    return Status::Conflict("session '" + id + "' is busy with another request; retry when it finishes");
  SessionLease lease = std::move(*e.lease);
  e.lease.reset();
  e.info.busy = true;
  e.info.last_used = now_();
  return lease;
}

void SessionStore::Release(SessionLease lease, int64_t tokens_added, bool completed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(lease.id);
  if (it == sessions_.end()) return;
  Entry& e = it->second;
  if (e.deleted) {
    state_bytes_ -= e.info.state_bytes;
    sessions_.erase(it);
    return;
  }
  e.info.busy = false;
  e.info.last_used = now_();
  if (completed) {
    ++e.info.turns;
    e.info.tokens += tokens_added;
  }
  e.info.ended_with_stop = lease.ended_with_stop;
  state_bytes_ -= e.info.state_bytes;
  e.info.state_bytes = lease.state.bytes();
  state_bytes_ += e.info.state_bytes;
  e.lease = std::move(lease);
}

Status SessionStore::Delete(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.deleted) return Status::NotFound("no session '" + id + "'");
  if (!it->second.lease) {  // busy: the running request finishes, then the session goes
    it->second.deleted = true;
    return Status::Ok();
  }
  state_bytes_ -= it->second.info.state_bytes;
  sessions_.erase(it);
  return Status::Ok();
}

std::optional<SessionInfo> SessionStore::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.deleted) return std::nullopt;
  return it->second.info;
}

size_t SessionStore::ExpireIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto cutoff = now_() - options_.idle_ttl;
  size_t n = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.lease && it->second.info.last_used < cutoff) {
      state_bytes_ -= it->second.info.state_bytes;
      it = sessions_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

size_t SessionStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [id, e] : sessions_) n += e.deleted ? 0 : 1;
  return n;
}

size_t SessionStore::state_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_bytes_;
}

}  // namespace dte
