#include "engine/engine.h"

#include <algorithm>

#include "base/log.h"
#include "engine/scheduler.h"

namespace dte {
namespace {

// Where the scheduler takes prefix checkpoints: chat-turn boundaries, every K tokens, the end
// of the prompt; only past what is already done.
constexpr size_t kCompletionTailTokens = 64;

std::vector<size_t> CheckpointOffsets(const Sequence& seq, int64_t interval) {
  std::vector<size_t> at;
  const size_t n = seq.prompt.size();
  for (int64_t off : seq.request.checkpoint_offsets)
    if (off > 0) at.push_back(static_cast<size_t>(off) + seq.pending_in_prompt);
  if (interval > 0)
    for (size_t k = static_cast<size_t>(interval); k < n; k += static_cast<size_t>(interval))
      at.push_back(k);
  // A completion has no message boundaries: keep a checkpoint a little before its end, where a
  // shared document or instructions usually stop and the per-request question begins.
  if (seq.request.checkpoint_offsets.empty() && n > 2 * kCompletionTailTokens)
    at.push_back(n - kCompletionTailTokens);
  at.push_back(n);
  std::sort(at.begin(), at.end());
  at.erase(std::unique(at.begin(), at.end()), at.end());
  std::erase_if(at, [&](size_t p) { return p <= seq.prefilled || p > n; });
  return at;
}

}  // namespace

std::string_view StepPhaseName(StepPhase phase) {
  switch (phase) {
    case StepPhase::kDecode:
      return "decode";
    case StepPhase::kPrefill:
      return "prefill";
    case StepPhase::kMixed:
      return "mixed";
  }
  return "mixed";
}

int64_t DefaultMaxBatch(const ModelConfig& c) {
  const double per_layer = 5.0 * static_cast<double>(c.n_embd) * static_cast<double>(c.n_embd) +
                           2.0 * static_cast<double>(c.n_embd) * static_cast<double>(c.ffn_dim);
  const double macs = static_cast<double>(c.n_layer) * per_layer +
                      static_cast<double>(c.n_embd) * static_cast<double>(c.n_vocab);
  int64_t batch = 64;
  while (batch < 1024 && static_cast<double>(batch * 2) * macs <= 8e9) batch *= 2;
  return batch;
}

Engine::Engine(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
               EngineOptions options, EngineObserver* observer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), sessions_(options.sessions) {
  DTE_CHECK(options.max_batch >= 0 && options.prefill_chunk >= 1 && options.max_queue >= 0 &&
                options.step_min_tokens >= 1 && options.step_seconds >= 0,
            "invalid EngineOptions");
  if (options.max_batch == 0) options.max_batch = DefaultMaxBatch(model_->config());
  DTE_CHECK(options.cache.checkpoint_interval >= 0, "invalid checkpoint_interval");
  if (options.cache.cache) {
    cache_ = std::make_unique<EngineCache>(options.cache, model_->config());
    // Sessions leaving memory (idle TTL, max_sessions) go to the cache instead of being dropped.
    sessions_.SetEvictionHandler(
        [cache = cache_.get()](const SessionInfo& info, SessionLease lease) {
          cache->PutSession(info, std::move(lease));
        });
  }
  scheduler_ =
      std::make_unique<Scheduler>(*model_, *tokenizer_, sessions_, cache_.get(), options, observer);
}

Engine::~Engine() { Shutdown(); }

void Engine::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    scheduler_->Stop();
    if (!cache_) return;
    size_t n = 0;
    for (auto& [info, lease] : sessions_.DrainIdle()) {
      cache_->PutSession(info, std::move(lease));
      ++n;
    }
    if (Status s = cache_->Flush(); !s.ok())
      LogWarning("state cache: flush at shutdown: " + s.ToString());
    if (n)
      LogInfo("state cache: " + std::to_string(n) + " sessions written to the cache at shutdown");
  });
}

std::optional<SessionInfo> Engine::FindSession(const std::string& id) {
  const bool shared = cache_ && cache_->options().session_write_through;
  if (!shared)
    if (std::optional<SessionInfo> info = sessions_.Get(id)) return info;
  if (!cache_) return std::nullopt;
  std::lock_guard<std::mutex> lock(restore_mu_);
  std::optional<SessionInfo> held = sessions_.Get(id);
  if (held && (!shared || held->busy)) return held;  // restored meanwhile, or busy here
  // Shared sessions held here: another worker may have continued this one since we last ran it
  // (every completed turn adds tokens, so more tokens = newer).
  auto taken = cache_->TakeSession(id, held ? held->tokens : -1);
  if (!taken) return held;
  if (held) {
    LogInfo("state cache: session '" + id + "' was continued elsewhere; taking the newer copy");
    (void)sessions_.Delete(id);
  }
  Status s = sessions_.Restore(taken->first, std::move(taken->second));
  if (!s.ok()) {
    LogWarning("state cache: session '" + id + "' could not be restored: " + s.ToString());
    return std::nullopt;
  }
  cache_->NoteRestored();
  return sessions_.Get(id);
}

Result<std::string> Engine::CreateSession() {
  DTE_ASSIGN_OR_RETURN(std::string id, sessions_.Create(model_->NewState()));
  if (cache_ && cache_->options().session_write_through) {
    // Shared: any worker may get the first turn. A fresh state is quick to write.
    if (std::optional<SessionInfo> info = sessions_.Get(id))
      cache_->PutSessionNow(*info, SessionLease{id, model_->NewState(), {}, true});
  }
  return id;
}

Status Engine::DeleteSession(const std::string& id) {
  Status s = sessions_.Delete(id);
  if (cache_) {
    std::lock_guard<std::mutex> lock(restore_mu_);
    if (!s.ok() && cache_->TakeSession(id)) s = Status::Ok();  // only in the cache: gone now too
    cache_->EraseSession(id);
  }
  return s;
}

Status Engine::Submit(GenerationRequest request, std::shared_ptr<TokenChannel> channel) {
  const int64_t n_vocab = model_->config().n_vocab;
  DTE_RETURN_IF_ERROR(request.sampling.Validate(n_vocab));
  DTE_RETURN_IF_ERROR(StopMatcher::Validate(request.stop_strings));
  if (request.max_tokens < 0) return Status::InvalidArgument("max_tokens must be >= 0");
  for (int32_t id : request.prompt_tokens)
    if (id < 0 || id >= n_vocab)
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary");
  for (int32_t id : request.stop_tokens)
    if (id < 0 || id >= n_vocab)
      return Status::InvalidArgument("stop token id " + std::to_string(id) + " is outside the vocabulary");

  auto seq = std::make_unique<Sequence>();
  seq->submitted = SteadyClock::now();
  seq->channel = std::move(channel);
  bool fresh_state = true;
  if (request.session_id) {
    std::optional<SessionInfo> info = FindSession(*request.session_id);
    DTE_ASSIGN_OR_RETURN(SessionLease lease, sessions_.Acquire(*request.session_id));
    seq->cached_tokens = info ? info->tokens - static_cast<int64_t>(lease.pending_tokens.size()) : 0;
    fresh_state = info && info->tokens == 0 && lease.pending_tokens.empty();
    seq->prompt = lease.pending_tokens;
    seq->pending_in_prompt = lease.pending_tokens.size();
    seq->backup = lease.state;  // copied: an aborted turn restores it
    seq->session = std::move(lease);
  } else {
    seq->own_state = model_->NewState();
  }
  seq->prompt.insert(seq->prompt.end(), request.prompt_tokens.begin(), request.prompt_tokens.end());
  seq->request = std::move(request);
  if (cache_ && fresh_state && !seq->prompt.empty()) {
    // Resume from the longest cached prefix (read here, on the caller's thread, not the
    // scheduler's).
    seq->timing.cache_lookup_start_unix_nano = UnixNanosForTiming();
    std::optional<EngineCache::Resume> hit = cache_->LookupPrefix(seq->prompt);
    seq->timing.cache_lookup_end_unix_nano = UnixNanosForTiming();
    if (hit && hit->tokens == static_cast<int64_t>(seq->prompt.size()) && hit->logits.empty())
      hit.reset();  // a one-token prompt cached without logits: nothing to sample from
    seq->timing.cache_tier = hit ? std::move(hit->tier) : std::string("miss");
    if (hit) {
      seq->state() = std::move(hit->state);
      seq->prefilled = static_cast<size_t>(hit->tokens);
      seq->cached_tokens += hit->tokens;
      seq->prefix_hit_tokens = hit->tokens;
      if (seq->prefill_done()) {
        seq->cached_logits = std::move(hit->logits);
        seq->sample_from_cache = true;
      }
    }
    if (cache_->options().checkpoint_prompts)
      seq->checkpoint_at = CheckpointOffsets(*seq, cache_->options().checkpoint_interval);
  }
  Status s = seq->prompt.empty() ? Status::InvalidArgument("the prompt is empty") : scheduler_->Enqueue(seq);
  if (!s.ok() && seq && seq->session) {
    if (seq->backup) seq->session->state = std::move(*seq->backup);
    sessions_.Release(std::move(*seq->session), 0, false);
  }
  return s;
}

EngineStats Engine::Stats() const {
  EngineStats s;
  s.queue_depth = scheduler_->queue_depth();
  s.active_sequences = scheduler_->active_sequences();
  s.sessions = static_cast<int64_t>(sessions_.size());
  s.session_state_bytes = static_cast<int64_t>(sessions_.state_bytes());
  if (cache_) s.cache = cache_->Counters();
  return s;
}

}  // namespace dte
