#pragma once
// AsyncNotifier: the bridge from other threads (the engine's scheduler) to a coroutine waiting
// on a connection. The coroutine does `co_await notifier.Wait()`; any thread calls Notify().
// Notifications coalesce into one pending flag, so none is lost: a Notify() before Wait()
// makes the next Wait() return at once, and several Notify()s before a Wait() wake it once.
// The waiter must then look at its data (e.g. drain a token queue) and wait again; a Wait()
// may also return kNotified for a Notify() whose data it has already consumed (a spurious
// wake-up), which the drain-then-wait loop tolerates.
//
// Nothing polls: a waiting coroutine parks on a timer of its own executor; Notify() posts a
// cancel of that timer to the executor (only when someone is waiting).
//
// Copies share one state (cheap to copy into an engine callback). One coroutine waits at a
// time, always from the same executor; Notify() is thread-safe and may outlive the server's
// io_context only if no coroutine is still waiting (the connection's coroutine frames are
// destroyed before the io_context). With a CancellationToken, cancellation wakes the waiter
// and every later Wait() returns kCancelled at once.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "http/cancellation.h"

namespace dte::http {

namespace asio = boost::asio;

class AsyncNotifier {
 public:
  enum class WaitResult { kNotified, kTimeout, kCancelled };

  AsyncNotifier();
  explicit AsyncNotifier(CancellationToken cancel);
  ~AsyncNotifier();

  // Thread-safe; never blocks on the waiter.
  void Notify() const;

  // Completes with kNotified when a notification is pending (consuming it), kCancelled when
  // the token is cancelled (checked first), or kTimeout after `timeout`.
  asio::awaitable<WaitResult> Wait(
      std::chrono::steady_clock::duration timeout = std::chrono::steady_clock::duration::max());

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  // OnCancel registration; unregistered when the last copy goes (held by a shared owner).
  std::shared_ptr<void> registration_;
};

}  // namespace dte::http
