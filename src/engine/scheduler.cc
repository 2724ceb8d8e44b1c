#include "engine/scheduler.h"

#include <algorithm>

namespace dte {

Scheduler::Scheduler(const Model& model, const Tokenizer& tokenizer, SessionStore& sessions,
                     EngineCache* cache, EngineOptions options, EngineObserver* observer)
    : model_(model),
      tokenizer_(tokenizer),
      sessions_(sessions),
      cache_(cache),
      options_(options),
      observer_(observer),
      pool_(options.threads > 0 ? options.threads : ThreadPool::HardwareThreads()) {
  thread_ = std::thread([this] { Run(); });
}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Enqueue(std::unique_ptr<Sequence>& sequence) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("the engine is shutting down");
    if (static_cast<int64_t>(queue_.size()) >= options_.max_queue)
      return Status::ResourceExhausted("the request queue is full (" + std::to_string(options_.max_queue) +
                                       " waiting); retry later");
    queue_.push_back(std::move(sequence));
    queue_depth_.store(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
  }
  cv_.notify_one();
  return Status::Ok();
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Run() {
  while (Admit()) {
    FormBatch();
    if (!chunks_.empty()) Step();
    Retire();
  }
  // Shutting down: everything still here ends with an error.
  std::deque<std::unique_ptr<Sequence>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (auto& seq : left) active_.push_back(std::move(seq));
  for (auto& seq : active_)
    if (!seq->completion) Finish(*seq, FinishReason::kError, Status::Unavailable("the engine is shutting down"));
  Retire();
}

// Moves queued requests into free slots; blocks while there is nothing to do. False once
// stopping.
bool Scheduler::Admit() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !active_.empty(); });
  if (stopping_) return false;
  while (!queue_.empty() && static_cast<int64_t>(active_.size()) < options_.max_batch) {
    std::unique_ptr<Sequence> seq = std::move(queue_.front());
    queue_.pop_front();
    seq->sampler.emplace(seq->request.sampling, model_.config().n_vocab);
    seq->stop = StopMatcher(seq->request.stop_tokens, seq->request.stop_strings);
    if (seq->sample_from_cache) {
      seq->logits = std::move(seq->cached_logits);
    }
    seq->logits.resize(static_cast<size_t>(model_.config().n_vocab));
    active_.push_back(std::move(seq));
  }
  queue_depth_.store(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
  active_count_.store(static_cast<int64_t>(active_.size()), std::memory_order_relaxed);
  return true;
}

void Scheduler::FormBatch() {
  chunks_.clear();
  chunk_owner_.clear();
  chunk_emits_.clear();
  int64_t budget = options_.prefill_chunk;
  for (auto& owned : active_) {
    Sequence& seq = *owned;
    if (seq.channel->cancelled()) {
      Finish(seq, FinishReason::kCancelled);
      continue;
    }
    if (seq.sample_from_cache) {  // the whole prompt was cached: first token without a forward pass
      seq.sample_from_cache = false;
      if (seq.request.max_tokens == 0) {
        Finish(seq, FinishReason::kLength);
      } else {
        Emit(seq);
      }
      if (seq.completion) continue;
    }
    bool emits = false;
    if (seq.feed_last_token) {
      chunks_.push_back({std::span<const int32_t>(&seq.last_token, 1), &seq.state(), seq.logits.data()});
    } else if (!seq.prefill_done() && budget > 0) {
      size_t end = seq.prefilled +
                   std::min<size_t>(static_cast<size_t>(budget), seq.prompt.size() - seq.prefilled);
      bool at_checkpoint = false;
      if (seq.next_checkpoint < seq.checkpoint_at.size() &&
          seq.checkpoint_at[seq.next_checkpoint] <= end) {
        end =
            seq.checkpoint_at[seq.next_checkpoint];  // stop there: the checkpoint needs that state
        at_checkpoint = true;
      }
      const size_t take = end - seq.prefilled;
      budget -= static_cast<int64_t>(take);
      emits = end == seq.prompt.size() && seq.request.max_tokens > 0;
      float* logits = emits || at_checkpoint ? seq.logits.data() : nullptr;
      chunks_.push_back({std::span<const int32_t>(seq.prompt).subspan(seq.prefilled, take), &seq.state(), logits});
    } else {
      continue;
    }
    chunk_owner_.push_back(&seq);
    chunk_emits_.push_back(emits || seq.feed_last_token);
  }
}

void Scheduler::Step() {
  const auto start = SteadyClock::now();
  model_.ForwardBatch(chunks_, scratch_, &pool_);
  int64_t tokens = 0;
  for (size_t i = 0; i < chunks_.size(); ++i) {
    Sequence& seq = *chunk_owner_[i];
    tokens += static_cast<int64_t>(chunks_[i].tokens.size());
    if (seq.feed_last_token) {
      seq.feed_last_token = false;
    } else {
      seq.prefilled += chunks_[i].tokens.size();
      if (seq.next_checkpoint < seq.checkpoint_at.size() &&
          seq.checkpoint_at[seq.next_checkpoint] == seq.prefilled)
        TakeCheckpoint(seq);  // before Emit: sampling may rescale the logits
    }
    if (chunk_emits_[i]) {
      Emit(seq);
    } else if (seq.prefill_done() && seq.request.max_tokens == 0) {
      Finish(seq, FinishReason::kLength);  // prefill only (e.g. a session's system prompt)
    }
  }
  if (observer_) observer_->OnStep(static_cast<int64_t>(chunks_.size()), tokens, SecondsSince(start));
}

// Copies the state and logits after prompt[0, prefilled) to the state cache's writer.
void Scheduler::TakeCheckpoint(Sequence& seq) {
  ++seq.next_checkpoint;
  if (cache_ == nullptr) return;
  cache_->PutPrefix(std::span<const int32_t>(seq.prompt).first(seq.prefilled), seq.state(),
                    seq.logits);
}

void Scheduler::Emit(Sequence& seq) {
  if (!seq.first_token_at) {
    seq.first_token_at = SteadyClock::now();
    if (observer_) observer_->OnFirstToken(std::chrono::duration<double>(*seq.first_token_at - seq.submitted).count());
  }
  const int32_t token = seq.sampler->Sample(seq.logits);
  seq.sampler->Accept(token);
  ++seq.generated;
  seq.last_token = token;
  StopStep step = seq.stop.Feed(token, tokenizer_.Decode(std::span<const int32_t>(&token, 1)));
  seq.channel->Push(TokenPiece{std::string(step.text), 1});
  if (step.stopped) {
    Finish(seq, FinishReason::kStop);
  } else if (seq.generated >= seq.request.max_tokens) {
    Finish(seq, FinishReason::kLength);
  } else {
    seq.feed_last_token = true;
  }
}

void Scheduler::Finish(Sequence& seq, FinishReason reason, Status error) {
  if (seq.completion) return;
  if (reason == FinishReason::kStop || reason == FinishReason::kLength) {
    std::string_view rest = seq.stop.Finish().text;
    if (!rest.empty()) seq.channel->Push(TokenPiece{std::string(rest), 0});
  }
  Completion c;
  c.reason = reason;
  c.error = std::move(error);
  c.usage.prompt_tokens = static_cast<int64_t>(seq.prompt.size());
  c.usage.completion_tokens = seq.generated;
  c.usage.cached_tokens = seq.cached_tokens;
  c.usage.prefix_hit_tokens = seq.prefix_hit_tokens;
  seq.completion = std::move(c);
}

// Hands a finished sequence's session back and closes its channel.
void Scheduler::Close(Sequence& seq) {
  const Completion& c = *seq.completion;
  const bool completed = c.reason == FinishReason::kStop || c.reason == FinishReason::kLength;
  if (seq.session) {
    int64_t added = 0;
    if (completed) {
      // The last sampled token has not been through the model yet: the next turn feeds it.
      seq.session->pending_tokens.clear();
      if (seq.generated > 0) seq.session->pending_tokens.push_back(seq.last_token);
      seq.session->ended_with_stop = c.reason == FinishReason::kStop || seq.request.max_tokens == 0;
      added = static_cast<int64_t>(seq.prompt.size() - seq.pending_in_prompt) + seq.generated;
    } else if (seq.backup) {
      seq.session->state = std::move(*seq.backup);  // an aborted turn leaves no trace
    }
    // Write-through (a shared tier lets another worker continue the session): copy first, the
    // store takes the lease.
    std::optional<SessionLease> copy;
    if (completed && cache_ && cache_->options().session_write_through) copy = *seq.session;
    std::optional<SessionInfo> info = sessions_.Release(std::move(*seq.session), added, completed);
    seq.session.reset();
    if (copy && info) {
      ReportFinished(seq);
      // The reply ends once the session is in the cache: the client's next turn may go to
      // another worker, which must find this one.
      cache_->PutSession(*info, std::move(*copy),
                         [channel = seq.channel, c] { channel->Close(c); });
      return;
    }
  }
  ReportFinished(seq);
  seq.channel->Close(c);
}

void Scheduler::ReportFinished(const Sequence& seq) {
  if (!observer_) return;
  const double total = SecondsSince(seq.submitted);
  double tpot = 0;
  if (seq.first_token_at && seq.generated > 1)
    tpot = std::chrono::duration<double>(SteadyClock::now() - *seq.first_token_at).count() /
           static_cast<double>(seq.generated - 1);
  observer_->OnFinished(seq.completion->usage, seq.completion->reason, total, tpot);
}

void Scheduler::Retire() {
  auto done = std::stable_partition(active_.begin(), active_.end(), [](const auto& s) { return !s->completion; });
  for (auto it = done; it != active_.end(); ++it) Close(**it);
  active_.erase(done, active_.end());
  active_count_.store(static_cast<int64_t>(active_.size()), std::memory_order_relaxed);
}

}  // namespace dte
