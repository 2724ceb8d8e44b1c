#pragma once
// CancellationToken: a flag that is set once (when the client of a request goes away or the
// server stops) plus callbacks run at that moment. Copies share one state, so the connection,
// the handler and whatever the handler hands work to (an engine sequence) see the same flag.
// Thread-safe: any thread may read, register, unregister or cancel. Callbacks run on the thread
// that calls Cancel() (for requests: the connection's executor), outside the token's lock, so a
// callback may itself use the token. No Boost, so lower layers can take a token by value.

#include <cstdint>
#include <functional>
#include <memory>

namespace dte::http {

class CancellationToken {
 public:
  using CallbackId = uint64_t;

  CancellationToken();  // a fresh, uncancelled token

  bool cancelled() const;

  // Registers `fn` to run once when the token is cancelled. If it already is, runs `fn` now on
  // the calling thread and returns 0. Otherwise returns an id for Unregister.
  CallbackId OnCancel(std::function<void()> fn);
  // Forgets a callback. It does not wait for one already running on another thread.
  void Unregister(CallbackId id);

  // Sets the flag and runs the callbacks in registration order. Later calls do nothing.
  void Cancel();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace dte::http
