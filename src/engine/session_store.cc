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
  Evicted evicted;
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.size() >= options_.max_sessions && !EvictOneIdleLocked(&evicted))
      return Status::ResourceExhausted("all " + std::to_string(options_.max_sessions) +
                                       " sessions are busy");
    id = NewSessionId(++id_counter_);
    Entry e;
    e.info.id = id;
    e.info.created = e.info.last_used = now_();
    e.info.state_bytes = state.bytes();
    state_bytes_ += state.bytes();
    e.lease = SessionLease{id, std::move(state), {}, true};
    sessions_.emplace(id, std::move(e));
  }
  HandOver(std::move(evicted));
  return id;
}

Status SessionStore::Restore(SessionInfo info, SessionLease lease) {
  Evicted evicted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(info.id);
    if (it != sessions_.end() && !it->second.deleted)
      return Status::Conflict("session '" + info.id + "' is already held");
    if (it == sessions_.end() && sessions_.size() >= options_.max_sessions &&
        !EvictOneIdleLocked(&evicted))
      return Status::ResourceExhausted("all " + std::to_string(options_.max_sessions) +
                                       " sessions are busy");
    if (it != sessions_.end()) {  // deleted while busy, not yet released: replace it
      state_bytes_ -= it->second.info.state_bytes;
      sessions_.erase(it);
    }
    Entry e;
    info.busy = false;
    info.state_bytes = lease.state.bytes();
    info.ended_with_stop = lease.ended_with_stop;
    lease.id = info.id;
    state_bytes_ += info.state_bytes;
    e.info = std::move(info);
    e.lease = std::move(lease);
    std::string id = e.info.id;
    sessions_.emplace(std::move(id), std::move(e));
  }
  HandOver(std::move(evicted));
  return Status::Ok();
}

bool SessionStore::EvictOneIdleLocked(Evicted* out) {
  auto victim = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (!it->second.lease) continue;  // busy
    if (victim == sessions_.end() || it->second.info.last_used < victim->second.info.last_used) victim = it;
  }
  if (victim == sessions_.end()) return false;
  state_bytes_ -= victim->second.info.state_bytes;
  out->emplace_back(std::move(victim->second.info), std::move(*victim->second.lease));
  sessions_.erase(victim);
  return true;
}

void SessionStore::HandOver(Evicted evicted) {
  if (!on_evict_) return;
  for (auto& [info, lease] : evicted) on_evict_(info, std::move(lease));
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

std::optional<SessionInfo> SessionStore::Release(SessionLease lease, int64_t tokens_added,
                                                 bool completed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(lease.id);
  if (it == sessions_.end()) return std::nullopt;
  Entry& e = it->second;
  if (e.deleted) {
    state_bytes_ -= e.info.state_bytes;
    sessions_.erase(it);
    return std::nullopt;
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
  return e.info;
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
  Evicted evicted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto cutoff = now_() - options_.idle_ttl;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.lease && it->second.info.last_used < cutoff) {
        state_bytes_ -= it->second.info.state_bytes;
        evicted.emplace_back(std::move(it->second.info), std::move(*it->second.lease));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  const size_t n = evicted.size();
  HandOver(std::move(evicted));
  return n;
}

std::vector<std::pair<SessionInfo, SessionLease>> SessionStore::DrainIdle() {
  Evicted out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.lease && !it->second.deleted) {
      state_bytes_ -= it->second.info.state_bytes;
      out.emplace_back(std::move(it->second.info), std::move(*it->second.lease));
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
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
