#include "engine/engine_cache.h"

#include "base/clock.h"
#include "base/log.h"
#include "engine/session_codec.h"

namespace dte {
namespace {

constexpr size_t kSpareCaptures = 4;

}  // namespace

EngineCache::EngineCache(StateCacheOptions options, const ModelConfig& config)
    : options_(std::move(options)),
      config_(config),
      model_id_(options_.model_id.empty() ? config.ToString() : options_.model_id) {
  DTE_CHECK(options_.cache != nullptr, "EngineCache needs a cache");
  writer_ = std::thread([this] { Run(); });
}

EngineCache::~EngineCache() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  writer_.join();
}

std::optional<EngineCache::Resume> EngineCache::LookupPrefix(std::span<const int32_t> prompt) {
  std::optional<TieredCache::PrefixHit> hit = options_.cache->LookupPrefix(model_id_, prompt);
  // A whole-prompt hit must bring its logits (the first token is sampled from them); without
  // them, resume one token earlier.
  if (hit && hit->tokens == static_cast<int64_t>(prompt.size()) &&
      hit->checkpoint->logits.size() != static_cast<size_t>(config_.n_vocab) && prompt.size() > 1)
    hit = options_.cache->LookupPrefix(model_id_, prompt.first(prompt.size() - 1));
  std::optional<Resume> out;
  if (hit) {
    Result<State> state = State::Deserialize(config_, hit->checkpoint->state);
    if (state.ok()) {
      out.emplace();
      out->tokens = hit->tokens;
      out->tier = std::string(hit->tier);
      out->state = std::move(*state);
      if (hit->checkpoint->logits.size() == static_cast<size_t>(config_.n_vocab))
        out->logits = hit->checkpoint->logits;
    } else {
      LogWarning("state cache: unusable prefix checkpoint dropped: " + state.status().ToString());
      options_.cache->Erase(hit->key);
    }
  }
  std::lock_guard<std::mutex> lock(counters_mu_);
  ++counters_.prefix_lookups;
  if (out) {
    ++counters_.prefix_hits;
    counters_.prefix_hit_tokens += out->tokens;
  }
  return out;
}

void EngineCache::PutPrefix(std::span<const int32_t> prefix, const State& state,
                            std::span<const float> logits) {
  const auto start = SteadyClock::now();
  auto job = std::make_unique<Job>();
  job->bytes = state.bytes() + logits.size_bytes() + prefix.size_bytes();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_bytes_ + job->bytes > options_.max_pending_bytes) {  // the writer is far behind
      std::lock_guard<std::mutex> counters_lock(counters_mu_);
      ++counters_.checkpoints_dropped;
      return;
    }
    if (!spare_captures_.empty()) {
      job->capture = std::move(spare_captures_.back());
      spare_captures_.pop_back();
    }
  }
  if (!job->capture) job->capture = std::make_unique<Capture>();
  job->capture->state = state;  // reuses the buffer's memory when it already has the size
  job->capture->logits.assign(logits.begin(), logits.end());
  job->prefix.assign(prefix.begin(), prefix.end());
  Enqueue(std::move(job));
  std::lock_guard<std::mutex> lock(counters_mu_);
  counters_.capture_seconds += SecondsSince(start);
}

void EngineCache::PutSession(const SessionInfo& info, SessionLease lease,
                             std::function<void()> on_written) {
  auto session = std::make_shared<SessionJob>();
  session->info = info;
  session->lease = std::move(lease);
  session->on_written = std::move(on_written);
  session->lease.id = info.id;
  auto job = std::make_unique<Job>();
  job->bytes = session->lease.state.bytes();
  job->session = session;
  {
    std::lock_guard<std::mutex> lock(session_mu_);
    auto& slot = pending_sessions_[TieredCache::SessionKey(model_id_, info.id)];
    if (slot) slot->cancelled = true;  // a newer copy replaces a queued one
    slot = std::move(session);
  }
  Enqueue(std::move(job));
}

void EngineCache::PutSessionNow(const SessionInfo& info, SessionLease lease) {
  Job job;
  job.session = std::make_shared<SessionJob>();
  job.session->info = info;
  job.session->lease = std::move(lease);
  job.session->lease.id = info.id;
  Execute(job);
  std::lock_guard<std::mutex> lock(counters_mu_);
  ++counters_.session_writes;
}

void EngineCache::NoteRestored() {
  std::lock_guard<std::mutex> lock(counters_mu_);
  ++counters_.sessions_restored;
}

std::optional<std::pair<SessionInfo, SessionLease>> EngineCache::TakeSession(
    const std::string& id, int64_t newer_than_tokens) {
  const CacheKey key = TieredCache::SessionKey(model_id_, id);
  const bool keep = options_.session_write_through;
  std::optional<std::pair<SessionInfo, SessionLease>> out;
  bool damaged = false;
  std::lock_guard<std::mutex> lock(session_mu_);
  auto it = pending_sessions_.find(key);
  if (it != pending_sessions_.end()) {
    if (it->second->info.tokens <= newer_than_tokens) return std::nullopt;
    out.emplace(it->second->info, it->second->lease);  // copied: the writer may be reading it
    if (!keep) {
      it->second->cancelled = true;
      pending_sessions_.erase(it);
    }
  } else if (std::shared_ptr<const Checkpoint> cp = options_.cache->Get(key)) {
    if (cp->tokens <= newer_than_tokens) return std::nullopt;  // not newer: skip the decode
    Result<std::pair<SessionInfo, SessionLease>> decoded = DecodeSession(config_, *cp);
    if (decoded.ok() && cp->model_id == model_id_) {
      out = std::move(*decoded);
    } else {
      damaged = true;
      LogWarning("state cache: unreadable session '" + id + "' dropped: " +
                 (decoded.ok() ? std::string("model mismatch") : decoded.status().ToString()));
    }
  }
  if (!keep || damaged) options_.cache->Erase(key);  // moved out: one copy, in the session store
  if (out) {
    out->first.id = id;
    out->second.id = id;
  }
  return out;
}

void EngineCache::EraseSession(const std::string& id) {
  const CacheKey key = TieredCache::SessionKey(model_id_, id);
  std::lock_guard<std::mutex> lock(session_mu_);
  auto it = pending_sessions_.find(key);
  if (it != pending_sessions_.end()) {
    it->second->cancelled = true;
    pending_sessions_.erase(it);
  }
  options_.cache->Erase(key);
}

void EngineCache::Enqueue(std::unique_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_bytes_ += job->bytes;
    queue_.push_back(std::move(job));
  }
  work_cv_.notify_one();
}

void EngineCache::Run() {
  while (true) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    const auto start = SteadyClock::now();
    Execute(*job);
    const double seconds = SecondsSince(start);
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
      pending_bytes_ -= job->bytes;
    }
    idle_cv_.notify_all();
    std::lock_guard<std::mutex> lock(counters_mu_);
    counters_.put_seconds += seconds;
    if (job->session)
      ++counters_.session_writes;
    else
      ++counters_.checkpoints;
  }
}

void EngineCache::Execute(Job& job) {
  if (!job.session) {
    Checkpoint cp;
    cp.state = job.capture->state.Serialize();
    cp.logits = job.capture->logits;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (spare_captures_.size() < kSpareCaptures)
        spare_captures_.push_back(std::move(job.capture));
    }
    options_.cache->PutPrefix(model_id_, job.prefix, std::move(cp), Priority::kGeneral);
    return;
  }
  SessionJob& s = *job.session;
  // Encoding reads the lease; TakeSession may copy it at the same time (both only read).
  auto cp = std::make_shared<const Checkpoint>(EncodeSession(model_id_, s.info, s.lease));
  const CacheKey key = TieredCache::SessionKey(model_id_, s.info.id);
  {
    std::lock_guard<std::mutex> lock(session_mu_);
    if (!s.cancelled) {
      options_.cache->Put(key, std::move(cp), Priority::kConversation);
      auto it = pending_sessions_.find(key);
      if (it != pending_sessions_.end() && it->second == job.session) pending_sessions_.erase(it);
    }
  }
  if (s.on_written) s.on_written();
}

void EngineCache::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

Status EngineCache::Flush() {
  Drain();
  return options_.cache->Flush();
}

StateCacheCounters EngineCache::Counters() const {
  StateCacheCounters c;
  {
    std::lock_guard<std::mutex> lock(counters_mu_);
    c = counters_;
  }
  std::lock_guard<std::mutex> lock(mu_);
  c.pending_bytes = static_cast<int64_t>(pending_bytes_);
  return c;
}

}  // namespace dte
