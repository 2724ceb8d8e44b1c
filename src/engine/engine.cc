#include "engine/engine.h"

#include "engine/scheduler.h"

namespace dte {

Engine::Engine(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
               EngineOptions options, EngineObserver* observer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), sessions_(options.sessions) {
  DTE_CHECK(options.max_batch >= 1 && options.prefill_chunk >= 1 && options.max_queue >= 0,
            "invalid EngineOptions");
  scheduler_ = std::make_unique<Scheduler>(*model_, *tokenizer_, sessions_, options, observer);
}

Engine::~Engine() { Shutdown(); }

void Engine::Shutdown() { scheduler_->Stop(); }

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
  if (request.session_id) {
    std::optional<SessionInfo> info = sessions_.Get(*request.session_id);
    DTE_ASSIGN_OR_RETURN(SessionLease lease, sessions_.Acquire(*request.session_id));
    seq->cached_tokens = info ? info->tokens - static_cast<int64_t>(lease.pending_tokens.size()) : 0;
    seq->prompt = lease.pending_tokens;
    seq->pending_in_prompt = lease.pending_tokens.size();
    seq->backup = lease.state;  // copied: an aborted turn restores it
    seq->session = std::move(lease);
  } else {
    seq->own_state = model_->NewState();
  }
  seq->prompt.insert(seq->prompt.end(), request.prompt_tokens.begin(), request.prompt_tokens.end());
  seq->request = std::move(request);
  Status s = seq->prompt.empty() ? Status::InvalidArgument("the prompt is empty") : scheduler_->Enqueue(seq);
  if (!s.ok() && seq && seq->session) sessions_.Release(std::move(*seq->session), 0, false);
  return s;
}

EngineStats Engine::Stats() const {
  EngineStats s;
  s.queue_depth = scheduler_->queue_depth();
  s.active_sequences = scheduler_->active_sequences();
  s.sessions = static_cast<int64_t>(sessions_.size());
  s.session_state_bytes = static_cast<int64_t>(sessions_.state_bytes());
  return s;
}

}  // namespace dte
