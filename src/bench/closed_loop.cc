#include "bench/closed_loop.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <memory>
#include <thread>

#include "bench/response_observer.h"
#include "http/client.h"

namespace dte::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

// Headers and bodies are built in plain functions: GCC 12 mishandles braced initializer
// lists and temporaries that live across co_await inside coroutines.
http::Headers JsonHeaders(bool streamed) {
  http::Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("Accept", streamed ? "text/event-stream" : "application/json");
  return h;
}

awaitable<bool> Ready(bool keep_reading) { co_return keep_reading; }

std::chrono::nanoseconds ToDuration(double seconds) {
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

uint64_t PromptSeed(uint64_t base, int user, int64_t sequence) {
  return base * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(user) << 32) ^
         static_cast<uint64_t>(sequence);
}

class ClosedLoop {
 public:
  ClosedLoop(asio::io_context& ioc, const Target& target, const WorkloadOptions& workload,
             const LoadOptions& load, Recorder& recorder)
      : ioc_(ioc),
        target_(target),
        workload_(workload),
        load_(load),
        recorder_(recorder),
        client_(ioc.get_executor(), target.host, target.port, ClientOptionsFor(load)),
        signal_strand_(asio::make_strand(ioc)),
        signals_(signal_strand_, SIGINT, SIGTERM) {}

  // Resolves the model, then runs the users; returns when every user is done.
  awaitable<Status> Run();
  RunResult result() const;

 private:
  static http::ClientOptions ClientOptionsFor(const LoadOptions& load) {
    http::ClientOptions o;
    o.io_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(ToDuration(load.timeout_s));
    o.max_idle_connections = static_cast<size_t>(std::max(load.users, 1));
    return o;
  }

  awaitable<Status> ResolveModel();
  awaitable<void> User(int index);
  awaitable<void> Session(int user, int64_t sequence);
  awaitable<RequestRecord> Send(const std::string& body, int turn);
  awaitable<void> Sleep(double seconds);
  awaitable<void> Progress();
  void WaitForSignal();
  void PrintProgress(bool final_line);

  bool TakeRequestSlot() {
    if (stopping_.load() || SteadyClock::now() >= deadline_) return false;
    return issued_.fetch_add(1) < load_.max_requests;
  }
  void Record(const RequestRecord& r);
  void UserDone();

  asio::io_context& ioc_;
  const Target target_;
  WorkloadOptions workload_;
  const LoadOptions load_;
  Recorder& recorder_;
  http::Client client_;
  asio::strand<asio::io_context::executor_type> signal_strand_;
  asio::signal_set signals_;
  const bool tty_ = isatty(STDERR_FILENO) == 1;

  SteadyClock::time_point start_ = SteadyClock::now();
  SteadyClock::time_point deadline_ = start_;
  std::atomic<int64_t> issued_{0};
  std::atomic<int> active_users_{0};
  std::atomic<bool> stopping_{false};     // no new requests
  std::atomic<bool> interrupted_{false};  // a signal: also end streams now
  std::atomic<int64_t> first_send_ns_{INT64_MAX};
  std::atomic<int64_t> last_end_ns_{0};
  int64_t printed_tick_ = 0;  // Progress() only
};

awaitable<Status> ClosedLoop::ResolveModel() {
  if (!workload_.model.empty()) co_return Status::Ok();
  const std::string path = target_.api_root + "/models";
  const std::string method = "GET";
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

awaitable<Status> ClosedLoop::Run() {
  Status s = co_await ResolveModel();
  if (!s.ok()) co_return s;
  start_ = SteadyClock::now();
  deadline_ = start_ + ToDuration(load_.duration_s);
  active_users_.store(load_.users);
  WaitForSignal();
  // UserDone runs however a user ends (an exception included), so the run always ends.
  for (int i = 0; i < load_.users; ++i)
    asio::co_spawn(asio::make_strand(ioc_), User(i), [this](std::exception_ptr) { UserDone(); });
  co_await Progress();
  co_return Status::Ok();
}

void ClosedLoop::WaitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;  // cancelled: the run is over
    stopping_.store(true);
    interrupted_.store(true);
  });
}

void ClosedLoop::UserDone() {
  if (active_users_.fetch_sub(1) == 1) asio::post(signal_strand_, [this] { signals_.cancel(); });
}

awaitable<void> ClosedLoop::Sleep(double seconds) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto until = SteadyClock::now() + ToDuration(seconds);
  // Short slices, so that a stop is noticed promptly.
  while (!stopping_.load() && SteadyClock::now() < until) {
    timer.expires_at(std::min(until, SteadyClock::now() + std::chrono::milliseconds(100)));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

awaitable<void> ClosedLoop::User(int index) {
  if (load_.ramp_up_s > 0 && load_.users > 1) co_await Sleep(load_.ramp_up_s * index / load_.users);
  for (int64_t sequence = 0; !stopping_.load() && SteadyClock::now() < deadline_; ++sequence) {
    if (workload_.session_turns > 0) {
      co_await Session(index, sequence);
    } else {
      if (!TakeRequestSlot()) break;
      const std::string prompt =
          SynthesizePrompt(workload_.prompt_words, PromptSeed(workload_.seed, index, sequence));
      const std::string body = RequestBody(workload_, prompt);
      const RequestRecord r = co_await Send(body, 0);
      Record(r);
    }
    if (load_.think_s > 0) co_await Sleep(load_.think_s);
    if (issued_.load() >= load_.max_requests) break;
  }
}

awaitable<void> ClosedLoop::Session(int user, int64_t sequence) {
  const std::string create_path = target_.api_root + "/sessions";
  const std::string post_method = "POST", delete_method = "DELETE", no_body;
  const http::Headers headers = JsonHeaders(false);
  const std::string create_body = SessionBody(load_.system_prompt);
  Result<http::ClientResponse> created =
      co_await client_.Request(post_method, create_path, headers, create_body);
  std::optional<std::string> id;
  if (created.ok() && created->status < 400) id = SessionId(created->body);
  if (!id) {
    RequestRecord failed;
    failed.sent = SteadyClock::now();
    failed.error = !created.ok()
                       ? "session_" + ResponseObserver::TransportErrorKind(created.status())
                   : created->status >= 400 ? "session_http_" + std::to_string(created->status)
                                            : "session_bad_response";
    Record(failed);
    co_return;
  }
  for (int turn = 1; turn <= workload_.session_turns; ++turn) {
    if (turn > 1 && load_.think_s > 0) co_await Sleep(load_.think_s);
    if (!TakeRequestSlot()) break;
    const std::string prompt = SynthesizePrompt(
        workload_.prompt_words, PromptSeed(workload_.seed, user, sequence * 4096 + turn));
    const std::string body = RequestBody(workload_, prompt, id);
    const RequestRecord r = co_await Send(body, turn);
    Record(r);
    if (!r.error.empty()) break;
  }
  const std::string delete_path = create_path + "/" + *id;
  Result<http::ClientResponse> deleted =
      co_await client_.Request(delete_method, delete_path, headers, no_body);
  (void)deleted;  // an expired or already gone session is fine here
}

awaitable<RequestRecord> ClosedLoop::Send(const std::string& body, int turn) {
  const std::string method = "POST", path = target_.api_root + RequestPath(workload_);
  const http::Headers headers = JsonHeaders(workload_.stream);
  const SteadyClock::time_point sent = SteadyClock::now();
  const SteadyClock::time_point give_up = sent + ToDuration(load_.timeout_s);
  int64_t sent_ns = (sent - start_).count(), seen = first_send_ns_.load();
  while (sent_ns < seen && !first_send_ns_.compare_exchange_weak(seen, sent_ns)) {
  }
  ResponseObserver observer(sent, workload_.stream, turn);
  Result<http::ClientResponse> response = Status::Internal("not sent");
  if (workload_.stream) {
    http::ChunkFn on_chunk = [this, &observer, give_up](std::string_view bytes) {
      const SteadyClock::time_point now = SteadyClock::now();
      observer.OnBytes(bytes, now);
      if (now > give_up || interrupted_.load()) {
        observer.MarkTimedOut();
        return Ready(false);
      }
      return Ready(true);
    };
    response = co_await client_.Stream(method, path, headers, body, on_chunk);
  } else {
    response = co_await client_.Request(method, path, headers, body);
  }
  const SteadyClock::time_point end = SteadyClock::now();
  const int64_t end_ns = (end - start_).count();
  int64_t last = last_end_ns_.load();
  while (end_ns > last && !last_end_ns_.compare_exchange_weak(last, end_ns)) {
  }
  if (!response.ok()) co_return observer.Finish(response.status(), 0, {}, end);
  co_return observer.Finish(Status::Ok(), response->status, response->body, end);
}

void ClosedLoop::Record(const RequestRecord& r) {
  if (interrupted_.load() && r.error == "timeout") return;  // cut short by the user, not the server
  recorder_.Add(r);
}

void ClosedLoop::PrintProgress(bool final_line) {
  if (!load_.progress) return;
  const Recorder::Progress p = recorder_.Snapshot();
  const double elapsed = SecondsSince(start_);
  std::fprintf(
      stderr,
      "%s[%6.1fs] users %d | %llu done (%.1f/s) | errors %llu | %.0f tok/s | p99 TTFT %.1f ms%s",
      tty_ ? "\r" : "", elapsed, active_users_.load(), static_cast<unsigned long long>(p.completed),
      elapsed > 0 ? static_cast<double>(p.completed) / elapsed : 0.0,
      static_cast<unsigned long long>(p.errors),
      elapsed > 0 ? static_cast<double>(p.output_tokens) / elapsed : 0.0, p.ttft_p99_s * 1e3,
      tty_ && !final_line ? "   " : "\n");
  std::fflush(stderr);
}

awaitable<void> ClosedLoop::Progress() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next = SteadyClock::now();
  while (active_users_.load() > 0) {
    next += std::chrono::milliseconds(100);
    timer.expires_at(next);
    co_await timer.async_wait(asio::use_awaitable);
    const int64_t tick = (SteadyClock::now() - start_) / std::chrono::seconds(1);
    if (tick > printed_tick_ && active_users_.load() > 0) {
      printed_tick_ = tick;
      PrintProgress(false);
    }
  }
  PrintProgress(true);
}

RunResult ClosedLoop::result() const {
  RunResult r;
  r.model = workload_.model;
  r.interrupted = interrupted_.load();
  const int64_t first = first_send_ns_.load(), last = last_end_ns_.load();
  r.duration_s = first == INT64_MAX ? SecondsSince(start_) : (last - first) * 1e-9;
  return r;
}

}  // namespace

Result<RunResult> RunClosedLoop(const Target& target, const WorkloadOptions& workload,
                                const LoadOptions& load, Recorder& recorder) {
  if (load.users < 1) return Status::InvalidArgument("--users must be at least 1");
  if (load.duration_s <= 0 || load.max_requests < 1)
    return Status::InvalidArgument("a run needs a positive --duration and --requests");
  asio::io_context ioc(std::max(load.threads, 1));
  auto loop = std::make_unique<ClosedLoop>(ioc, target, workload, load, recorder);
  Status status = Status::Internal("the run did not finish");
  asio::co_spawn(ioc, loop->Run(), [&status](std::exception_ptr e, Status s) {
    status = e ? Status::Internal("the load generator failed") : std::move(s);
  });
  std::vector<std::thread> extra;
  for (int i = 1; i < load.threads; ++i) extra.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (std::thread& t : extra) t.join();
  if (!status.ok()) return status;
  return loop->result();
}

}  // namespace dte::bench
