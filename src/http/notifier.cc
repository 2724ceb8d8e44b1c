#include "http/notifier.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <optional>

namespace dte::http {

// The timer a waiter parks on lives in the waiting coroutine's frame (so it is destroyed on
// its executor, never after its io_context by some engine thread holding a copy); `timer`
// points at it only while a Wait is parked.
struct AsyncNotifier::Impl {
  std::mutex mu;
  bool pending = false;                           // guarded by mu
  bool wake_posted = false;                       // guarded by mu
  asio::steady_timer* timer = nullptr;            // guarded by mu
  std::optional<asio::any_io_executor> executor;  // guarded by mu; set while `timer` is
  std::optional<CancellationToken> token;         // immutable after construction

  bool cancelled() const { return token && token->cancelled(); }

  void Notify(const std::shared_ptr<Impl>& self) {
    std::lock_guard lock(mu);
    pending = true;
    if (timer == nullptr || wake_posted) return;
    wake_posted = true;
    // The cancel runs on the waiter's executor, serialized with the waiting coroutine.
    asio::post(*executor, [self] {
      std::lock_guard lock(self->mu);
      if (self->timer != nullptr) self->timer->cancel();
    });
  }
};

AsyncNotifier::AsyncNotifier() : impl_(std::make_shared<Impl>()) {}

AsyncNotifier::AsyncNotifier(CancellationToken cancel) : impl_(std::make_shared<Impl>()) {
  impl_->token = cancel;
  std::weak_ptr<Impl> weak = impl_;
  CancellationToken::CallbackId id = cancel.OnCancel([weak] {
    if (auto impl = weak.lock()) impl->Notify(impl);
  });
  if (id != 0) {
    registration_ =
        std::shared_ptr<void>(nullptr, [cancel, id](void*) mutable { cancel.Unregister(id); });
  }
}

AsyncNotifier::~AsyncNotifier() = default;

void AsyncNotifier::Notify() const { impl_->Notify(impl_); }

asio::awaitable<AsyncNotifier::WaitResult> AsyncNotifier::Wait(
    std::chrono::steady_clock::duration timeout) {
  using Clock = std::chrono::steady_clock;
  std::shared_ptr<Impl> impl = impl_;  // keeps the state alive across suspension
  const Clock::time_point now = Clock::now();
  const Clock::time_point deadline =
      timeout >= Clock::time_point::max() - now ? Clock::time_point::max() : now + timeout;
  asio::steady_timer timer(co_await asio::this_coro::executor);

  // Unparks on every exit, including destruction of this frame while suspended.
  struct Unpark {
    Impl* impl;
    ~Unpark() {
      std::lock_guard lock(impl->mu);
      impl->timer = nullptr;
      impl->executor.reset();
    }
  } unpark{impl.get()};

  for (;;) {
    {
      std::lock_guard lock(impl->mu);
      if (impl->cancelled()) co_return WaitResult::kCancelled;
      if (impl->pending) {
        impl->pending = false;
        co_return WaitResult::kNotified;
      }
      if (Clock::now() >= deadline) co_return WaitResult::kTimeout;
      impl->timer = &timer;
      impl->executor = timer.get_executor();
      impl->wake_posted = false;
    }
    timer.expires_at(deadline);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));  // woken, expired or cancelled
    {
      std::lock_guard lock(impl->mu);
      impl->timer = nullptr;
      impl->executor.reset();
    }
    // The coroutine itself was cancelled (e.g. its operation group is being torn down).
    asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return WaitResult::kCancelled;
    // Otherwise loop: a notification, a cancellation or the deadline decides; a stale wake-up
    // (a cancel posted for an earlier Wait) just parks again.
  }
}

}  // namespace dte::http
