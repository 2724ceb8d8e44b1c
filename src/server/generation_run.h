#pragma once
// One generation as an HTTP handler sees it: the engine's TokenChannel, woken through an
// AsyncNotifier, tied to the request's cancellation (a client that goes away cancels the
// sequence; so does a handler that returns early).

#include <memory>
#include <optional>
#include <vector>

#include "engine/token_channel.h"
#include "http/handler.h"
#include "http/notifier.h"

namespace dte::server {

class GenerationRun {
 public:
  explicit GenerationRun(http::Request& req);
  ~GenerationRun();
  GenerationRun(const GenerationRun&) = delete;
  GenerationRun& operator=(const GenerationRun&) = delete;

  const std::shared_ptr<TokenChannel>& channel() const { return channel_; }

  // Waits for output; appends it to `pieces`. Returns the completion once the generation has
  // ended (kCancelled at once when the client went away).
  http::asio::awaitable<std::optional<Completion>> Next(std::vector<TokenPiece>* pieces);

 private:
  http::Request& req_;
  std::shared_ptr<TokenChannel> channel_;
  http::AsyncNotifier notifier_;
  http::CancellationToken::CallbackId cancel_id_ = 0;
  bool done_ = false;
};

}  // namespace dte::server
