#pragma once
// Continuous batching on one thread, as a few small steps per iteration:
//   Admit      move queued requests into free slots (FIFO), blocking while there is no work
//   FormBatch  PlanBatch (batch_planner.h): one token of every decoding sequence, then prompt
//              chunks (oldest first, at most `prefill_chunk` each) within a token budget
//              that keeps a step under `step_seconds` (StepCostModel learns the step cost
//              from the steps run); a prefill chunk ends at the sequence's next checkpoint
//   Step       one Model::ForwardBatch over all of it (matrix-matrix work); checkpoints are
//              copied out to the state cache's writer

//   Emit       sample (in parallel over the pool for large vocabularies), stop-check and
//              push text to each request's channel
//   Retire     close finished or cancelled sequences, hand sessions back
// Requests join and leave between steps. Cancellation (TokenChannel::Cancel) takes effect at
// the next step.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/thread_pool.h"
#include "engine/batch_planner.h"
#include "engine/engine.h"
#include "engine/sequence.h"
#include "engine/step_cost.h"

namespace dte {

class Scheduler {
 public:
  // `cache` may be null (no state cache); it must outlive the scheduler.
  Scheduler(const Model& model, const Tokenizer& tokenizer, SessionStore& sessions,
            EngineCache* cache, EngineOptions options, EngineObserver* observer);
  ~Scheduler();

  // Queues a prepared sequence (Engine::Submit validated it). ResourceExhausted when the
  // queue is full, Unavailable after Stop; the sequence is returned to the caller then.
  Status Enqueue(std::unique_ptr<Sequence>& sequence);
  void Stop();

  int64_t queue_depth() const { return queue_depth_.load(std::memory_order_relaxed); }
  int64_t active_sequences() const { return active_count_.load(std::memory_order_relaxed); }

 private:
  void Run();
  bool Admit();
  void FormBatch();
  int64_t step_budget() const;
  void LogSteps(int64_t tokens, double seconds);
  void Step();
  // Samples (unless `sampled` >= 0: already sampled from seq.logits), stop-checks, pushes.
  void Emit(Sequence& seq, int32_t sampled = -1);
  void TakeCheckpoint(Sequence& seq);
  void Retire();
  void Finish(Sequence& seq, FinishReason reason, Status error = Status::Ok());
  void Close(Sequence& seq);
  void ReportFinished(const Sequence& seq);

  const Model& model_;
  const Tokenizer& tokenizer_;
  SessionStore& sessions_;
  EngineCache* const cache_;
  const EngineOptions options_;
  EngineObserver* const observer_;
  ThreadPool pool_;
  Scratch scratch_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Sequence>> queue_;  // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  std::atomic<int64_t> queue_depth_{0};
  std::atomic<int64_t> active_count_{0};

  // Scheduler-thread only:
  std::vector<std::unique_ptr<Sequence>> active_;
  std::vector<SequenceChunk> chunks_;
  std::vector<Sequence*> chunk_owner_;
  std::vector<char> chunk_emits_;  // the chunk ends the prompt: sample from its logits
  std::vector<PlanCandidate> candidates_;
  std::vector<Sequence*> candidate_owner_;
  std::vector<int64_t> takes_;
  std::vector<size_t> sample_at_;  // chunks whose logits are sampled this step
  std::vector<int32_t> sampled_;   // per chunk: the token sampled in parallel, or -1
  static constexpr int64_t kParallelSampleVocab = 4096;
  StepCostModel cost_;
  static constexpr int64_t kMaxStepTokens = 65536;
  struct StepWindow {
    SteadyClock::time_point start = SteadyClock::now();
    int64_t steps = 0, tokens = 0, sequences = 0;
    int64_t decode_candidates = 0, prompt_candidates = 0;
    double busy_seconds = 0;
  };
  StepWindow window_;
  std::thread thread_;
};

}  // namespace dte
