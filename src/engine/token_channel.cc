#include "engine/token_channel.h"

namespace dte {

std::string_view FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "?";
}

void TokenChannel::SetNotifier(std::function<void()> notifier) { notifier_ = std::move(notifier); }

void TokenChannel::Push(TokenPiece piece) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(piece));
  }
  Notify();
}

void TokenChannel::Close(Completion completion) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    completion_ = std::move(completion);
  }
  Notify();
}

void TokenChannel::Notify() {
  cv_.notify_all();
  if (notifier_) notifier_();
}

std::optional<Completion> TokenChannel::Drain(std::vector<TokenPiece>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& p : pending_) out->push_back(std::move(p));
  pending_.clear();
  return completion_;
}

std::optional<Completion> TokenChannel::WaitAndDrain(std::vector<TokenPiece>* out,
                                                     std::chrono::milliseconds timeout) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !pending_.empty() || completion_.has_value(); });
  }
  return Drain(out);
}

}  // namespace dte
