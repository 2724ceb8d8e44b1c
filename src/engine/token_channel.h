#pragma once
// The per-request stream of output between the scheduler thread (producer) and the request's
// consumer (an HTTP handler coroutine, a CLI loop, a test). Nothing polls: the producer calls
// the consumer's notifier when output arrives after the consumer has drained the channel; a
// blocking consumer may use WaitAndDrain instead. Cancellation flows the other way: the
// consumer calls Cancel and the scheduler retires the sequence at its next step.
//
// Thread-safe; shared_ptr-owned by both sides.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/request.h"

namespace dte {

class TokenChannel {
 public:
  // ---- producer side (scheduler thread)
  void Push(TokenPiece piece);
  // The last event: no Push after it.
  void Close(Completion completion);

  // ---- consumer side
  // Called (on the producer's thread, without locks held) whenever new output or the
  // completion becomes available. Set it before the request is submitted.
  void SetNotifier(std::function<void()> notifier);
  // Moves all pending pieces into `out` (appending); returns the completion once closed and
  // everything before it has been drained.
  std::optional<Completion> Drain(std::vector<TokenPiece>* out);
  // Blocks until there is something to drain or `timeout` passes.
  std::optional<Completion> WaitAndDrain(std::vector<TokenPiece>* out, std::chrono::milliseconds timeout);

  // ---- both
  void Cancel() { cancelled_.store(true, std::memory_order_release); }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  void Notify();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TokenPiece> pending_;        // guarded by mu_
  std::optional<Completion> completion_;   // guarded by mu_
  std::function<void()> notifier_;         // set before submission, then read-only
  std::atomic<bool> cancelled_{false};
};

}  // namespace dte
