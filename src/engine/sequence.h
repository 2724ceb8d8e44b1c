#pragma once
// One request while the scheduler runs it: its state, how much of its prompt is done, its
// sampler and stop matcher. Owned by the scheduler thread (created by Submit's caller, then
// handed over through the queue).

#include <chrono>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "engine/request.h"
#include "engine/session_store.h"
#include "engine/token_channel.h"
#include "model/sampler.h"
#include "model/state.h"
#include "model/stop_matcher.h"

namespace dte {

// Unix nanoseconds (system clock), for RequestTiming: one clock read, no tracing work.
inline int64_t UnixNanosForTiming() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Sequence {
  std::shared_ptr<TokenChannel> channel;
  GenerationRequest request;
  std::optional<SessionLease> session;  // the state lives in the lease for session requests
  std::optional<State> own_state;       // otherwise here
  std::optional<State> backup;          // a session's state before this request (restored on abort)
  int64_t cached_tokens = 0;            // session history / cached prefix not re-processed
  int64_t prefix_hit_tokens = 0;        // the cached prefix part of cached_tokens

  std::vector<int32_t> prompt;  // the session's pending tokens, then the request's prompt
  size_t pending_in_prompt = 0;  // how many of them were the session's (already counted there)
  size_t prefilled = 0;
  std::optional<Sampler> sampler;
  StopMatcher stop;
  int32_t last_token = -1;
  bool feed_last_token = false;  // last_token was sampled and goes through the model next step
  int64_t generated = 0;
  std::vector<float> logits;

  // State cache: prompt offsets (ascending, all > prefilled) where a prefix checkpoint is taken;
  // empty unless the state started fresh (prompt[0, n) is then a cacheable prefix).
  std::vector<size_t> checkpoint_at;
  size_t next_checkpoint = 0;
  // The whole prompt was a cache hit: sample the first token from these logits, no forward pass.
  std::vector<float> cached_logits;
  bool sample_from_cache = false;

  SteadyClock::time_point submitted;
  std::optional<SteadyClock::time_point> first_token_at;
  RequestTiming timing;  // moved into the completion
  std::optional<Completion> completion;  // set when the sequence is done

  State& state() { return session ? session->state : *own_state; }
  bool prefill_done() const { return prefilled == prompt.size(); }
};

}  // namespace dte
