#include "engine/scheduler.h"

#include <algorithm>
#include <cstdio>

#include "base/log.h"

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
    sequence->timing.enqueued_unix_nano = UnixNanosForTiming();
    sequence->timing.queue_depth = static_cast<int64_t>(queue_.size()) + 1;
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
    const auto start = SteadyClock::now();
    FormBatch();
    int64_t tokens = 0;
    for (const auto& c : chunks_) tokens += static_cast<int64_t>(c.tokens.size());
    if (!chunks_.empty()) Step();
    Retire();
    if (tokens > 0) {
      const double seconds = SecondsSince(start);
      cost_.Observe(tokens, seconds);  // forward, sampling and output
      LogSteps(tokens, seconds);
    }
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
    seq->timing.admitted_unix_nano = UnixNanosForTiming();
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
  candidates_.clear();
  candidate_owner_.clear();
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
    PlanCandidate c;
    c.decoding = seq.feed_last_token;
    c.prompt_left = seq.feed_last_token ? 0 : static_cast<int64_t>(seq.prompt.size() - seq.prefilled);
    if (!c.decoding && c.prompt_left == 0) continue;
    candidates_.push_back(c);
    candidate_owner_.push_back(&seq);
  }
  if (candidates_.empty()) return;
  PlanOptions plan;
  plan.token_budget = step_budget();
  plan.chunk_cap = options_.prefill_chunk;
  plan.prefill_floor = options_.step_min_tokens;
  PlanBatch(candidates_, plan, &takes_);
  for (size_t i = 0; i < candidates_.size(); ++i) {
    (candidates_[i].decoding ? window_.decode_candidates : window_.prompt_candidates) += 1;
  }
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (takes_[i] == 0) continue;
    Sequence& seq = *candidate_owner_[i];
    bool emits = false;
    if (seq.feed_last_token) {
      chunks_.push_back({std::span<const int32_t>(&seq.last_token, 1), &seq.state(), seq.logits.data()});
    } else {
      size_t end = seq.prefilled + static_cast<size_t>(takes_[i]);
      bool at_checkpoint = false;
      if (seq.next_checkpoint < seq.checkpoint_at.size() &&
          seq.checkpoint_at[seq.next_checkpoint] <= end) {
        end =
            seq.checkpoint_at[seq.next_checkpoint];  // stop there: the checkpoint needs that state
        at_checkpoint = true;
      }
      const size_t take = end - seq.prefilled;
      emits = end == seq.prompt.size() && seq.request.max_tokens > 0;
      float* logits = emits || at_checkpoint ? seq.logits.data() : nullptr;
      chunks_.push_back({std::span<const int32_t>(seq.prompt).subspan(seq.prefilled, take), &seq.state(), logits});
    }
    chunk_owner_.push_back(&seq);
    chunk_emits_.push_back(emits || seq.feed_last_token);
  }
}

// Tokens the next step may hold to last about options_.step_seconds (StepCostModel).
int64_t Scheduler::step_budget() const {
  if (options_.step_seconds <= 0) return options_.step_min_tokens;
  return cost_.TokensWithin(options_.step_seconds, options_.step_min_tokens,
                            std::max(options_.step_min_tokens, kMaxStepTokens));
}

void Scheduler::Step() {
  const auto start = SteadyClock::now();
  model_.ForwardBatch(chunks_, scratch_, &pool_);
  int64_t tokens = 0;
  size_t decode_rows = 0;
  sample_at_.clear();
  for (size_t i = 0; i < chunks_.size(); ++i) {
    Sequence& seq = *chunk_owner_[i];
    tokens += static_cast<int64_t>(chunks_[i].tokens.size());
    if (seq.feed_last_token) {
      ++decode_rows;
      seq.feed_last_token = false;
    } else {
      seq.prefilled += chunks_[i].tokens.size();
      if (seq.next_checkpoint < seq.checkpoint_at.size() &&
          seq.checkpoint_at[seq.next_checkpoint] == seq.prefilled)
        TakeCheckpoint(seq);  // before sampling: it may rescale the logits
    }
    if (chunk_emits_[i]) sample_at_.push_back(i);
  }
  // Sampling is per sequence (its own sampler and logits): spread it over the pool when the
  // vocabulary makes it worth it (a softmax over 65,536 logits is ~0.1 ms).
  sampled_.assign(chunks_.size(), -1);
  if (model_.config().n_vocab >= kParallelSampleVocab && sample_at_.size() > 1) {
    pool_.ParallelFor(static_cast<int64_t>(sample_at_.size()), [this](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        Sequence& seq = *chunk_owner_[sample_at_[static_cast<size_t>(k)]];
        sampled_[sample_at_[static_cast<size_t>(k)]] = seq.sampler->Sample(seq.logits);
      }
    });
  }
  for (size_t i = 0; i < chunks_.size(); ++i) {
    Sequence& seq = *chunk_owner_[i];
    if (chunk_emits_[i]) {
      Emit(seq, sampled_[i]);
    } else if (seq.prefill_done() && seq.request.max_tokens == 0) {
      Finish(seq, FinishReason::kLength);  // prefill only (e.g. a session's system prompt)
    }
  }
  if (observer_) {
    const StepPhase phase = decode_rows == chunks_.size() ? StepPhase::kDecode
                            : decode_rows == 0            ? StepPhase::kPrefill
                                                          : StepPhase::kMixed;
    observer_->OnStepPhase(phase, static_cast<int64_t>(chunks_.size()), tokens,
                           SecondsSince(start));
  }
}

// At debug level, a summary of the last second's steps (what the budget allowed, what ran).
void Scheduler::LogSteps(int64_t tokens, double seconds) {
  if (GetLogLevel() != LogLevel::kDebug) return;
  window_.steps += 1;
  window_.tokens += tokens;
  window_.busy_seconds += seconds;
  window_.sequences += static_cast<int64_t>(chunks_.size());
  if (SecondsSince(window_.start) < 1.0) return;
  char line[400];
  std::snprintf(line, sizeof(line),
                "scheduler: %lld steps, %.1f ms/step, %.0f tokens/step, %.0f sequences/step (%.0f "
                "decodes, %.0f prompts waiting), "
                "budget %lld (fit %.2f ms + %.1f us/token), active %zu, queued %lld",
                static_cast<long long>(window_.steps), 1000 * window_.busy_seconds / window_.steps,
                static_cast<double>(window_.tokens) / window_.steps,
                static_cast<double>(window_.sequences) / window_.steps,
                static_cast<double>(window_.decode_candidates) / window_.steps,
                static_cast<double>(window_.prompt_candidates) / window_.steps,
                static_cast<long long>(step_budget()), 1000 * cost_.fixed_seconds(),
                1e6 * cost_.seconds_per_token(), active_.size(),
                static_cast<long long>(queue_depth()));
  Log(LogLevel::kDebug, line);
  window_ = StepWindow{};
}

// Copies the state and logits after prompt[0, prefilled) to the state cache's writer.
void Scheduler::TakeCheckpoint(Sequence& seq) {
  ++seq.next_checkpoint;
  if (cache_ == nullptr) return;
  CheckpointTiming t;
  t.start_unix_nano = UnixNanosForTiming();
  cache_->PutPrefix(std::span<const int32_t>(seq.prompt).first(seq.prefilled), seq.state(),
                    seq.logits);
  t.end_unix_nano = UnixNanosForTiming();
  t.tokens = static_cast<int64_t>(seq.prefilled);
  seq.timing.checkpoints.push_back(t);
}

void Scheduler::Emit(Sequence& seq, int32_t sampled) {
  if (!seq.first_token_at) {
    seq.first_token_at = SteadyClock::now();
    seq.timing.first_token_unix_nano = UnixNanosForTiming();
    if (observer_) observer_->OnFirstToken(std::chrono::duration<double>(*seq.first_token_at - seq.submitted).count());
  }
  const int32_t token = sampled >= 0 ? sampled : seq.sampler->Sample(seq.logits);
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
  seq.timing.finished_unix_nano = UnixNanosForTiming();
  c.timing = std::move(seq.timing);
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
