#include "server/generation_run.h"

namespace dte::server {

GenerationRun::GenerationRun(http::Request& req)
    : req_(req), channel_(std::make_shared<TokenChannel>()), notifier_(req.cancel) {
  channel_->SetNotifier([n = notifier_] { n.Notify(); });
  cancel_id_ = req_.cancel.OnCancel([ch = channel_] { ch->Cancel(); });
}

GenerationRun::~GenerationRun() {
  if (cancel_id_ != 0) req_.cancel.Unregister(cancel_id_);
  if (!done_) channel_->Cancel();  // the handler stopped early: free the batch slot
}

http::asio::awaitable<std::optional<Completion>> GenerationRun::Next(std::vector<TokenPiece>* pieces) {
  while (true) {
    std::optional<Completion> c = channel_->Drain(pieces);
    if (c) done_ = true;
    if (c || !pieces->empty()) co_return c;
    if (co_await notifier_.Wait() == http::AsyncNotifier::WaitResult::kCancelled) {
      channel_->Cancel();
      done_ = true;
      co_return Completion{FinishReason::kCancelled, {}, Status::Unavailable("the client went away")};
    }
  }
}

}  // namespace dte::server
