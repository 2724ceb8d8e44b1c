#include "bench/closed_loop.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <cmath>
#include <memory>

#include "bench/response_observer.h"

namespace dte::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

uint64_t PromptSeed(uint64_t base, int user, int64_t sequence) {
  return base * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(user) << 32) ^
         static_cast<uint64_t>(sequence);
}

class ClosedLoop {
 public:
  ClosedLoop(asio::io_context& ioc, const Target& target, const WorkloadOptions& workload,
             const LoadOptions& load, Recorder& recorder)
      : ioc_(ioc), ctx_(ioc, target, workload, load, recorder), scenario_(load.scenario) {}

  // Resolves the model, then runs the users; returns when every user is done.
  awaitable<Status> Run();
  RunResult result() const { return ctx_.result(); }

 private:
  awaitable<void> User(int index);
  awaitable<void> Session(int user, int64_t sequence);
  // Waits until user `index` is active; false when it never will be again.
  awaitable<bool> WaitActive(int index);
  void UserDone();

  asio::io_context& ioc_;
  LoadContext ctx_;
  const Scenario scenario_;
  int users_ = 0;
  std::atomic<int> running_{0};
  std::atomic<bool> done_{false};
};

awaitable<Status> ClosedLoop::Run() {
  Status s = co_await ctx_.ResolveModel();
  if (!s.ok()) co_return s;
  users_ = static_cast<int>(std::ceil(scenario_.PeakValue()));
  ctx_.Begin(scenario_.DurationS());
  running_.store(users_);
  // UserDone runs however a user ends (an exception included), so the run always ends.
  // With one io thread a user needs no strand of its own (one fewer hop per resumption).
  const bool strands = ctx_.load().threads > 1;
  for (int i = 0; i < users_; ++i) {
    auto done = [this](std::exception_ptr) { UserDone(); };
    if (strands) {
      asio::co_spawn(asio::make_strand(ioc_), User(i), done);
    } else {
      asio::co_spawn(ioc_, User(i), done);
    }
  }
  co_await ctx_.Progress(done_);
  co_return Status::Ok();
}

void ClosedLoop::UserDone() {
  if (running_.fetch_sub(1) == 1) {
    done_.store(true);
    ctx_.Finish();
  }
}

awaitable<bool> ClosedLoop::WaitActive(int index) {
  while (!ctx_.stopping() && SteadyClock::now() < ctx_.deadline()) {
    if (scenario_.ValueAt(ctx_.Elapsed()) > index) co_return true;
    co_await ctx_.Sleep(0.02);
  }
  co_return false;
}

awaitable<void> ClosedLoop::User(int index) {
  const WorkloadOptions& w = ctx_.workload();
  bool counted = false;
  for (int64_t sequence = 0;; ++sequence) {
    const bool active = co_await WaitActive(index);
    if (!active) break;
    if (!counted) ++ctx_.active;
    counted = true;
    if (w.session_turns > 0) {
      co_await Session(index, sequence);
    } else {
      if (!ctx_.TakeRequestSlot()) break;
      const SteadyClock::time_point intended = SteadyClock::now();
      const std::string body =
          w.raw_path.empty() ? RequestBody(w, PromptFor(w, PromptSeed(w.seed, index, sequence)))
                             : std::string();
      const RequestRecord r = co_await ctx_.Send(body, intended, 0);
      ctx_.Record(r);
    }
    if (ctx_.load().scenario.think_s > 0) co_await ctx_.Sleep(ctx_.load().scenario.think_s);
    if (ctx_.RequestsExhausted()) break;
    if (scenario_.ValueAt(ctx_.Elapsed()) <= index && counted) {
      --ctx_.active;  // ramped down: wait (maybe to be re-activated by a later stage)
      counted = false;
    }
  }
  if (counted) --ctx_.active;
}

awaitable<void> ClosedLoop::Session(int user, int64_t sequence) {
  const WorkloadOptions& w = ctx_.workload();
  const std::string post = "POST", del = "DELETE", sessions = "/sessions", no_body;
  const std::string create_body = SessionBody(ctx_.load().system_prompt);
  Result<http::ClientResponse> created = co_await ctx_.Call(post, sessions, create_body);
  std::optional<std::string> id;
  if (created.ok() && created->status < 400) id = SessionId(created->body);
  if (!id) {
    RequestRecord failed;
    failed.sent = SteadyClock::now();
    failed.error = !created.ok()
                       ? "session_" + ResponseObserver::TransportErrorKind(created.status())
                   : created->status >= 400 ? "session_http_" + std::to_string(created->status)
                                            : "session_bad_response";
    ctx_.Record(failed);
    co_return;
  }
  for (int turn = 1; turn <= w.session_turns; ++turn) {
    if (turn > 1 && ctx_.load().scenario.think_s > 0)
      co_await ctx_.Sleep(ctx_.load().scenario.think_s);
    if (!ctx_.TakeRequestSlot()) break;
    const std::string prompt = PromptFor(w, PromptSeed(w.seed, user, sequence * 4096 + turn));
    const std::string body = RequestBody(w, prompt, id);
    const SteadyClock::time_point intended = SteadyClock::now();
    const RequestRecord r = co_await ctx_.Send(body, intended, turn);
    ctx_.Record(r);
    if (!r.error.empty()) break;
  }
  const std::string delete_path = sessions + "/" + *id;
  Result<http::ClientResponse> deleted = co_await ctx_.Call(del, delete_path, no_body);
  (void)deleted;  // an expired or already gone session is fine here
}

}  // namespace

Result<RunResult> RunClosedLoop(const Target& target, const WorkloadOptions& workload,
                                const LoadOptions& load, Recorder& recorder) {
  if (load.scenario.open_loop) return Status::InvalidArgument("not a closed-loop scenario");
  if (load.scenario.PeakValue() < 1) return Status::InvalidArgument("the scenario has no users");
  if (load.max_duration_s <= 0 || load.max_requests < 1)
    return Status::InvalidArgument("a run needs a positive --duration and --max-requests");
  asio::io_context ioc(std::max(load.threads, 1));
  auto loop = std::make_unique<ClosedLoop>(ioc, target, workload, load, recorder);
  Status status = RunOnThreads(ioc, loop->Run(), load.threads);
  if (!status.ok()) return status;
  return loop->result();
}

}  // namespace dte::bench
