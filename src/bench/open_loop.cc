#include "bench/open_loop.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/arrivals.h"

namespace dte::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

class ScenarioRequests : public RequestSource {
 public:
  ScenarioRequests(const Scenario& scenario, const WorkloadOptions& workload)
      : schedule_(scenario, workload.seed), workload_(workload), duration_(scenario.DurationS()) {}

  std::optional<PlannedRequest> Next() override {
    std::optional<double> at = schedule_.Next();
    if (!at) return std::nullopt;
    PlannedRequest p;
    p.at_s = *at;
    if (workload_.raw_path.empty())
      p.prompt = PromptFor(workload_, workload_.seed * 0x9E3779B97F4A7C15ull + ++sequence_);
    return p;
  }
  double DurationS() const override { return duration_; }

 private:
  ArrivalSchedule schedule_;
  const WorkloadOptions workload_;
  const double duration_;
  uint64_t sequence_ = 0;
};

class OpenLoop {
 public:
  OpenLoop(asio::io_context& ioc, const Target& target, const WorkloadOptions& workload,
           const LoadOptions& load, RequestSource& source, Recorder& recorder)
      : ioc_(ioc),
        ctx_(ioc, target, workload, load, recorder),
        source_(source),
        strand_(asio::make_strand(ioc)),
        slot_timer_(strand_) {
    ctx_.open_loop = true;
  }

  awaitable<Status> Run();
  RunResult result() const { return ctx_.result(); }

 private:
  awaitable<void> Schedule();
  awaitable<void> One(PlannedRequest planned, SteadyClock::time_point intended);
  void RequestDone();

  asio::io_context& ioc_;
  LoadContext ctx_;
  RequestSource& source_;
  // The scheduler runs on strand_; slot_timer_ (used only there) wakes it when it waits for
  // a free slot under max_in_flight and a request ends.
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer slot_timer_;
  std::atomic<bool> waiting_for_slot_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<bool> scheduling_{true};
  std::atomic<bool> done_{false};
};

awaitable<Status> OpenLoop::Run() {
  Status s = co_await ctx_.ResolveModel();
  if (!s.ok()) co_return s;
  ctx_.Begin(source_.DurationS());
  asio::co_spawn(strand_, Schedule(), [this](std::exception_ptr) {
    scheduling_.store(false);
    if (in_flight_.load() == 0 && !done_.exchange(true)) ctx_.Finish();
  });
  co_await ctx_.Progress(done_);
  co_return Status::Ok();
}

void OpenLoop::RequestDone() {
  ctx_.active.store(in_flight_.fetch_sub(1) - 1);
  if (waiting_for_slot_.exchange(false)) asio::post(strand_, [this] { slot_timer_.cancel(); });
  if (in_flight_.load() == 0 && !scheduling_.load() && !done_.exchange(true)) ctx_.Finish();
}

awaitable<void> OpenLoop::Schedule() {
  constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const int max_in_flight = std::max(1, ctx_.load().max_in_flight);
  while (true) {
    std::optional<PlannedRequest> planned = source_.Next();
    if (!planned) break;
    const SteadyClock::time_point intended = ctx_.start() + ToDuration(planned->at_s);
    if (intended >= ctx_.deadline()) break;
    // Sleep until it is due, in slices of at most 100 ms so that a stop is noticed.
    while (!ctx_.stopping() && SteadyClock::now() < intended) {
      timer.expires_at(std::min(intended, SteadyClock::now() + std::chrono::milliseconds(100)));
      co_await timer.async_wait(kUseTuple);
    }
    // All slots busy: wait until a request ends (RequestDone cancels the timer). The flag is
    // set before the count is read again, so a request that ends in between is not missed.
    while (in_flight_.load() >= max_in_flight && !ctx_.stopping()) {
      waiting_for_slot_.store(true);
      if (in_flight_.load() < max_in_flight) break;
      slot_timer_.expires_after(std::chrono::milliseconds(100));
      co_await slot_timer_.async_wait(kUseTuple);
    }
    waiting_for_slot_.store(false);
    if (!ctx_.TakeRequestSlot(intended)) break;
    ctx_.active.store(in_flight_.fetch_add(1) + 1);
    asio::co_spawn(ioc_, One(std::move(*planned), intended),
                   [this](std::exception_ptr) { RequestDone(); });
  }
}

awaitable<void> OpenLoop::One(PlannedRequest planned, SteadyClock::time_point intended) {
  const WorkloadOptions& w = ctx_.workload();
  const std::string body =
      w.raw_path.empty() ? RequestBody(w, planned.prompt, std::nullopt, planned.max_tokens)
                         : std::string();
  const RequestRecord r = co_await ctx_.Send(body, intended, 0);
  ctx_.Record(r);
}

}  // namespace

std::unique_ptr<RequestSource> ScenarioSource(const Scenario& scenario,
                                              const WorkloadOptions& workload) {
  return std::make_unique<ScenarioRequests>(scenario, workload);
}

Result<RunResult> RunOpenLoop(const Target& target, const WorkloadOptions& workload,
                              const LoadOptions& load, RequestSource& source,
                              Recorder& recorder) {
  if (workload.session_turns > 0)
    return Status::InvalidArgument("sessions need closed-loop users, not open-loop arrivals");
  if (load.max_duration_s <= 0 || load.max_requests < 1)
    return Status::InvalidArgument("a run needs a positive --duration and --max-requests");
  asio::io_context ioc(std::max(load.threads, 1));
  auto loop = std::make_unique<OpenLoop>(ioc, target, workload, load, source, recorder);
  Status status = RunOnThreads(ioc, loop->Run(), load.threads);
  if (!status.ok()) return status;
  return loop->result();
}

}  // namespace dte::bench
