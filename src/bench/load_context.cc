#include "bench/load_context.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench/response_observer.h"

namespace dte::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

// Headers are built in plain functions: GCC 12 mishandles braced initializer lists and
// temporaries that live across co_await inside coroutines.
http::Headers JsonHeaders(bool streamed) {
  http::Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("Accept", streamed ? "text/event-stream" : "application/json");
  return h;
}

awaitable<bool> Ready(bool keep_reading) { co_return keep_reading; }

http::ClientOptions ClientOptionsFor(const LoadOptions& load) {
  http::ClientOptions o;
  o.io_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(ToDuration(load.timeout_s));
  const double peak = load.scenario.open_loop ? load.max_in_flight : load.scenario.PeakValue();
  o.max_idle_connections = static_cast<size_t>(std::clamp(peak, 1.0, 100'000.0));
  return o;
}

void AtomicMin(std::atomic<int64_t>& a, int64_t v) {
  int64_t seen = a.load();
  while (v < seen && !a.compare_exchange_weak(seen, v)) {
  }
}

void AtomicMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t seen = a.load();
  while (v > seen && !a.compare_exchange_weak(seen, v)) {
  }
}

}  // namespace

std::chrono::nanoseconds ToDuration(double seconds) {
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

Status RunOnThreads(asio::io_context& ioc, asio::awaitable<Status> run, int threads) {
  Status status = Status::Internal("the run did not finish");
  asio::co_spawn(ioc, std::move(run), [&status](std::exception_ptr e, Status s) {
    status = e ? Status::Internal("the load generator failed") : std::move(s);
  });
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (std::thread& t : extra) t.join();
  return status;
}

LoadContext::LoadContext(asio::io_context& ioc, const Target& target,
                         const WorkloadOptions& workload, const LoadOptions& load,
                         Recorder& recorder)
    : ioc_(ioc),
      target_(target),
      workload_(workload),
      load_(load),
      recorder_(recorder),
      client_(ioc.get_executor(), target.host, target.port, ClientOptionsFor(load)),
      request_path_(workload.raw_path.empty() ? target.api_root + RequestPath(workload)
                                              : workload.raw_path),
      signal_strand_(asio::make_strand(ioc)),
      signals_(signal_strand_, SIGINT, SIGTERM),
      tty_(isatty(STDERR_FILENO) == 1) {}

awaitable<Status> LoadContext::ResolveModel() {
  if (!workload_.model.empty() || !workload_.raw_path.empty()) co_return Status::Ok();
  const std::string method = "GET", path = target_.api_root + "/models";
  const http::Headers no_headers;
  const std::string no_body;
  Result<http::ClientResponse> r = co_await client_.Request(method, path, no_headers, no_body);
  if (!r.ok()) co_return r.status().WithPrefix("GET " + target_.Url() + "/models");
  if (r->status != 200) {
    co_return Status::Unavailable("GET " + target_.Url() + "/models answered " +
                                  std::to_string(r->status) + "; pass --model");
  }
  std::optional<std::string> id = FirstModelId(r->body);
  if (!id) co_return Status::InvalidArgument("GET /models listed no model; pass --model");
  workload_.model = *id;
  co_return Status::Ok();
}

void LoadContext::Begin(double planned_duration_s) {
  start_ = SteadyClock::now();
  deadline_ = start_ + ToDuration(std::min(planned_duration_s, load_.max_duration_s));
  duration_capped_ = load_.max_duration_s < planned_duration_s;
  recorder_.StartTimeline(start_, std::min(planned_duration_s, load_.max_duration_s));
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;  // cancelled: the run is over
    stopping_.store(true);
    interrupted_.store(true);
  });
}

void LoadContext::Finish() {
  asio::post(signal_strand_, [this] { signals_.cancel(); });
}

bool LoadContext::TakeRequestSlot(SteadyClock::time_point at) {
  if (stopping_.load()) return false;
  if (at >= deadline_) {
    NoteEnd(duration_capped_ ? 2 : 1);
    return false;
  }
  if (issued_.fetch_add(1) >= load_.max_requests) {
    NoteEnd(3);
    return false;
  }
  return true;
}

bool LoadContext::RequestsExhausted() {
  if (issued_.load() < load_.max_requests) return false;
  NoteEnd(3);
  return true;
}

void LoadContext::NoteEnd(int reason) {
  int none = 0;
  end_reason_.compare_exchange_strong(none, reason);
}

awaitable<void> LoadContext::SleepUntil(SteadyClock::time_point until) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Short slices, so that a stop is noticed promptly; nobody needs to wait past the deadline.
  until = std::min(until, deadline_);
  while (!stopping_.load() && SteadyClock::now() < until) {
    timer.expires_at(std::min(until, SteadyClock::now() + std::chrono::milliseconds(100)));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

awaitable<void> LoadContext::Sleep(double seconds) {
  const SteadyClock::time_point until = SteadyClock::now() + ToDuration(seconds);
  co_await SleepUntil(until);
}

awaitable<Result<http::ClientResponse>> LoadContext::Call(const std::string& method,
                                                          const std::string& path,
                                                          const std::string& body) {
  const http::Headers headers = JsonHeaders(false);
  const std::string full = target_.api_root + path;
  Result<http::ClientResponse> r = co_await client_.Request(method, full, headers, body);
  co_return r;
}

awaitable<RequestRecord> LoadContext::Send(const std::string& body,
                                           SteadyClock::time_point intended, int turn) {
  const bool raw = !workload_.raw_path.empty();
  const bool streamed = workload_.stream && !raw;
  const std::string method = raw ? workload_.raw_method : std::string("POST");
  const SteadyClock::time_point now = SteadyClock::now();
  const SteadyClock::time_point sent = std::min(intended, now);
  const SteadyClock::time_point give_up = now + ToDuration(load_.timeout_s);
  AtomicMin(first_send_ns_, (sent - start_).count());
  ResponseObserver observer(sent, streamed, turn);
  observer.set_raw(raw);
  Result<http::ClientResponse> response = Status::Internal("not sent");
  if (raw) {
    const http::Headers no_headers;
    const std::string no_body;
    response = co_await client_.Request(method, request_path_, no_headers, no_body);
  } else if (streamed) {
    const http::Headers headers = JsonHeaders(true);
    http::ChunkFn on_chunk = [this, &observer, give_up](std::string_view bytes) {
      const SteadyClock::time_point t = SteadyClock::now();
      observer.OnBytes(bytes, t);
      if (t > give_up || interrupted_.load()) {
        observer.MarkTimedOut();
        return Ready(false);
      }
      return Ready(true);
    };
    response = co_await client_.Stream(method, request_path_, headers, body, on_chunk);
  } else {
    const http::Headers headers = JsonHeaders(false);
    response = co_await client_.Request(method, request_path_, headers, body);
  }
  const SteadyClock::time_point end = SteadyClock::now();
  AtomicMax(last_end_ns_, (end - start_).count());
  RequestRecord r = !response.ok()
                        ? observer.Finish(response.status(), 0, {}, end)
                        : observer.Finish(Status::Ok(), response->status, response->body, end);
  r.lag_s = std::chrono::duration<double>(now - sent).count();
  co_return r;
}

void LoadContext::Record(const RequestRecord& r) {
  if (interrupted_.load() && r.error == "timeout") return;  // cut short by the user, not the server
  recorder_.Add(r);
}

void LoadContext::PrintProgress(bool final_line) {
  if (!load_.progress) return;
  const Recorder::Progress p = recorder_.Snapshot();
  const double elapsed = Elapsed();
  const double dt = elapsed - last_print_s_;
  const double rate = final_line ? (elapsed > 0 ? static_cast<double>(p.completed) / elapsed : 0)
                      : dt > 0   ? static_cast<double>(p.completed - last_completed_) / dt
                                 : 0.0;
  last_completed_ = p.completed;
  last_print_s_ = elapsed;
  std::fprintf(stderr,
               "%s%s[%6.1fs] %s %d | %llu done (%.1f/s%s) | errors %llu | %.0f tok/s | "
               "p99 TTFT %.1f ms%s",
               tty_ ? "\r" : "", load_.label.empty() ? "" : (load_.label + " ").c_str(), elapsed,
               open_loop ? "in flight" : "users", active.load(),
               static_cast<unsigned long long>(p.completed), rate, final_line ? " avg" : "",
               static_cast<unsigned long long>(p.errors),
               elapsed > 0 ? static_cast<double>(p.output_tokens) / elapsed : 0.0,
               p.ttft_p99_s * 1e3, tty_ && !final_line ? "   " : "\n");
  std::fflush(stderr);
}

awaitable<void> LoadContext::Progress(const std::atomic<bool>& done) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next = SteadyClock::now();
  int64_t printed_tick = 0;
  while (!done.load()) {
    next += std::chrono::milliseconds(100);
    timer.expires_at(next);
    co_await timer.async_wait(asio::use_awaitable);
    const int64_t tick = (SteadyClock::now() - start_) / std::chrono::seconds(1);
    if (tick > printed_tick && !done.load()) {
      printed_tick = tick;
      PrintProgress(false);
    }
  }
  PrintProgress(true);
}

RunResult LoadContext::result() const {
  RunResult r;
  r.model = workload_.model;
  r.interrupted = interrupted_.load();
  constexpr const char* kReasons[] = {"schedule", "schedule", "duration_limit", "request_limit"};
  int reason = end_reason_.load();
  if (reason == 0) reason = duration_capped_ && SteadyClock::now() >= deadline_ ? 2 : 1;
  r.ended_by = r.interrupted ? "signal" : kReasons[reason];
  const int64_t first = first_send_ns_.load(), last = last_end_ns_.load();
  r.duration_s = first == INT64_MAX ? SecondsSince(start_) : (last - first) * 1e-9;
  return r;
}

}  // namespace dte::bench
