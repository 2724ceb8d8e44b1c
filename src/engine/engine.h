#pragma once
// The inference engine of one worker: a model, its tokenizer, the sessions, an optional state
// cache (engine_cache.h: prefix checkpoints, sessions evicted to RAM / disk / Redis), and one
// scheduler thread that runs every admitted request in continuous batches (see scheduler.h).
// Submit may be called from any thread; output arrives on the request's TokenChannel.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "engine/engine_cache.h"
#include "engine/request.h"
#include "engine/session_store.h"
#include "engine/token_channel.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace dte {

struct EngineOptions {
  int64_t max_batch = 0;        // sequences running at once; 0: DefaultMaxBatch(model)
  int64_t max_queue = 1024;     // requests waiting for a slot; more are refused (HTTP 429)
  int64_t prefill_chunk = 1024;  // prompt tokens of one sequence per step
  // A step holds one token of every decoding sequence plus prompt tokens up to a budget: what
  // the measured step cost allows in step_seconds, and at least step_min_tokens of prompt
  // (batch_planner.h). step_seconds = 0: the budget is step_min_tokens.
  double step_seconds = 0.25;
  int64_t step_min_tokens = 256;
  int threads = 0;              // forward-pass threads; 0 = hardware threads
  SessionOptions sessions;
  StateCacheOptions cache;  // cache.cache == null: no state cache
};

// What one forward step ran: only decode rows (one sampled token per sequence), only prompt
// chunks, or both.
enum class StepPhase { kDecode, kPrefill, kMixed };
std::string_view StepPhaseName(StepPhase phase);  // "decode", "prefill", "mixed"

// Called on the scheduler thread; implementations must be quick and thread-safe.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void OnStep(int64_t sequences, int64_t tokens, double seconds) {}
  // The scheduler calls this one; by default it forwards to OnStep.
  virtual void OnStepPhase(StepPhase phase, int64_t sequences, int64_t tokens, double seconds) {
    OnStep(sequences, tokens, seconds);
  }
  virtual void OnFirstToken(double seconds_since_submit) {}
  virtual void OnFinished(const Usage& usage, FinishReason reason, double seconds_since_submit,
                          double seconds_per_output_token) {}
};

struct EngineStats {
  int64_t queue_depth = 0;
  int64_t active_sequences = 0;
  int64_t sessions = 0;
  int64_t session_state_bytes = 0;
  std::optional<StateCacheCounters> cache;  // set when the engine has a state cache
};

class Scheduler;

// The default max_batch for a model: as many sequences as one decode step can advance for
// about 8e9 multiply-adds (estimated from the shapes), a power of two within [64, 1024].
// Tiny models get 1024 (a thousand streams at once), 0.1B-class models and larger 64.
int64_t DefaultMaxBatch(const ModelConfig& config);

class Engine {
 public:
  Engine(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
         EngineOptions options, EngineObserver* observer = nullptr);
  ~Engine();  // Shutdown()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. Errors (nothing is sent on the channel then): InvalidArgument (bad ids or
  // sampling parameters), NotFound / Conflict (session missing / busy), ResourceExhausted
  // (queue full), Unavailable (shutting down).
  Status Submit(GenerationRequest request, std::shared_ptr<TokenChannel> channel);

  // Stops the scheduler; requests still queued or running end with an Unavailable error.
  // With a state cache, idle sessions are then written to it and it is asked to persist.
  void Shutdown();

  // A session held in memory or, failing that, restored from the state cache (evicted earlier,
  // kept from before a restart, or written by another worker through a shared tier). With
  // session write-through (a shared tier), an idle session held here is also compared with the
  // cached copy and replaced when another worker has run more turns on it since.
  std::optional<SessionInfo> FindSession(const std::string& id);
  // A new idle session with a fresh state (written through to a shared cache tier at once).
  Result<std::string> CreateSession();
  // Deletes a session from memory and from the state cache. NotFound if it was in neither.
  Status DeleteSession(const std::string& id);

  SessionStore& sessions() { return sessions_; }
  EngineCache* cache() { return cache_.get(); }  // null without a state cache
  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  EngineStats Stats() const;

 private:
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  SessionStore sessions_;
  std::unique_ptr<EngineCache> cache_;
  std::mutex restore_mu_;  // one restore from the cache at a time (two requests, one session)
  std::once_flag shutdown_once_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace dte
