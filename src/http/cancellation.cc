#include "http/cancellation.h"

#include <atomic>
#include <map>
#include <mutex>
#include <utility>

namespace dte::http {

struct CancellationToken::State {
  std::atomic<bool> cancelled{false};
  std::mutex mu;
  CallbackId next_id = 1;                                 // guarded by mu
  std::map<CallbackId, std::function<void()>> callbacks;  // guarded by mu; ordered by id
};

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

bool CancellationToken::cancelled() const {
  return state_->cancelled.load(std::memory_order_acquire);
}

CancellationToken::CallbackId CancellationToken::OnCancel(std::function<void()> fn) {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->cancelled.load(std::memory_order_relaxed)) {
      CallbackId id = state_->next_id++;
      state_->callbacks.emplace(id, std::move(fn));
      return id;
    }
  }
  fn();  // already cancelled: run now, outside the lock
  return 0;
}

void CancellationToken::Unregister(CallbackId id) {
  std::lock_guard lock(state_->mu);
  state_->callbacks.erase(id);
}

void CancellationToken::Cancel() {
  std::map<CallbackId, std::function<void()>> callbacks;
  {
    std::lock_guard lock(state_->mu);
    if (state_->cancelled.exchange(true, std::memory_order_acq_rel)) return;
    callbacks.swap(state_->callbacks);
  }
  for (auto& [id, fn] : callbacks) fn();
}

}  // namespace dte::http
