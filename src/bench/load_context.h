#pragma once
// LoadContext: what the closed-loop and open-loop load generators share for one run: the
// HTTP client to the target, the run's clock (start, deadline) and bounds (requests, time),
// sending one request and observing its response, SIGINT/SIGTERM handling, and the live
// progress line on stderr (once a second: elapsed, users or requests in flight, requests/s
// over the last second, errors, p99 TTFT so far).
//
// Latency is measured from a request's *intended* send time, which the caller passes: the
// moment a closed-loop user decided to send, or an open-loop request's scheduled arrival.
// A client that falls behind its schedule therefore shows the delay in the latencies instead
// of hiding it (no coordinated omission); the lag itself is recorded too.
//
// Thread-safety: members called from request coroutines (Send, Record, TakeRequestSlot,
// counters) are safe on any io thread; Begin/Finish are called once by the runner.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "bench/recorder.h"
#include "bench/scenario.h"
#include "bench/target.h"
#include "bench/workload.h"
#include "http/client.h"

namespace dte::bench {

struct LoadOptions {
  Scenario scenario;             // users or arrival rates over time
  double max_duration_s = 3600;  // the run ends here even if the scenario is longer
  int64_t max_requests = 100'000;
  double timeout_s = 120;  // per request
  int threads = 1;         // client I/O threads
  int max_in_flight = 10'000;  // open loop: more arrivals wait (their latency still counts)
  bool progress = true;        // a live line on stderr
  std::string label;           // prefix of the progress line ("A", "B" with --compare)
  std::string system_prompt;   // of each session
};

struct RunResult {
  std::string model;         // the model asked for (found via GET /models if not given)
  double duration_s = 0;     // first send → last response
  bool interrupted = false;  // ended by a signal
  // What ended it: "schedule" (the scenario or trace ran out), "duration_limit" (--duration
  // cut the schedule short), "request_limit" (--max-requests) or "signal".
  std::string ended_by = "schedule";
};

std::chrono::nanoseconds ToDuration(double seconds);

// Runs a load generator's main coroutine on `ioc` with `threads` I/O threads (this one
// included) until it ends; its Status, or Internal if it threw.
Status RunOnThreads(boost::asio::io_context& ioc, boost::asio::awaitable<Status> run, int threads);

class LoadContext {
 public:
  LoadContext(boost::asio::io_context& ioc, const Target& target, const WorkloadOptions& workload,
              const LoadOptions& load, Recorder& recorder);

  // Asks GET {root}/models for a model when the workload names none (not for raw workloads).
  boost::asio::awaitable<Status> ResolveModel();
  // Starts the clock and the signal watch; the deadline is min(planned, max_duration_s).
  void Begin(double planned_duration_s);
  // Ends the signal watch, so that the io_context can run out of work.
  void Finish();

  // Whether another request due at `at` may be sent (before the deadline, under
  // max_requests, no stop). The open loop passes the scheduled time, so an arrival that was
  // due before the deadline is sent even when the scheduler wakes up late.
  bool TakeRequestSlot(SteadyClock::time_point at = SteadyClock::now());
  bool stopping() const { return stopping_.load(); }
  bool interrupted() const { return interrupted_.load(); }
  SteadyClock::time_point start() const { return start_; }
  SteadyClock::time_point deadline() const { return deadline_; }
  double Elapsed() const { return SecondsSince(start_); }
  // Whether max_requests requests were sent (then notes it as what ended the run).
  bool RequestsExhausted();
  const WorkloadOptions& workload() const { return workload_; }
  const LoadOptions& load() const { return load_; }

  // Sends one request of the workload (`body` unused for raw workloads) and returns what
  // happened, timed from `intended`.
  boost::asio::awaitable<RequestRecord> Send(const std::string& body,
                                             SteadyClock::time_point intended, int turn);
  // A plain JSON request (sessions); no timing.
  boost::asio::awaitable<Result<http::ClientResponse>> Call(const std::string& method,
                                                            const std::string& path,
                                                            const std::string& body);
  // Sleeps in short slices, returning early when the run stops or reaches its deadline.
  boost::asio::awaitable<void> Sleep(double seconds);
  boost::asio::awaitable<void> SleepUntil(SteadyClock::time_point until);
  void Record(const RequestRecord& r);

  // Prints the progress line once a second until `done` is set, then the last one.
  boost::asio::awaitable<void> Progress(const std::atomic<bool>& done);
  std::atomic<int> active{0};  // users running, or requests in flight (shown in progress)
  bool open_loop = false;      // progress says "in flight" instead of "users"

  RunResult result() const;

 private:
  void PrintProgress(bool final_line);
  void NoteEnd(int reason);  // keeps the first reason: 1 schedule, 2 duration, 3 requests

  boost::asio::io_context& ioc_;
  const Target target_;
  WorkloadOptions workload_;
  const LoadOptions load_;
  Recorder& recorder_;
  http::Client client_;
  const std::string request_path_;
  boost::asio::strand<boost::asio::io_context::executor_type> signal_strand_;
  boost::asio::signal_set signals_;
  const bool tty_;

  SteadyClock::time_point start_ = SteadyClock::now();
  SteadyClock::time_point deadline_ = start_;
  std::atomic<int64_t> issued_{0};
  bool duration_capped_ = false;  // max_duration_s is shorter than the schedule
  std::atomic<int> end_reason_{0};  // 0: none yet; see NoteEnd()
  std::atomic<bool> stopping_{false};     // no new requests
  std::atomic<bool> interrupted_{false};  // a signal: also end streams now
  std::atomic<int64_t> first_send_ns_{INT64_MAX};
  std::atomic<int64_t> last_end_ns_{0};
  uint64_t last_completed_ = 0;  // Progress() only
  double last_print_s_ = 0;
};

}  // namespace dte::bench
