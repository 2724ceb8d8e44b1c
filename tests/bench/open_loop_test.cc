// The open-loop scheduler against a real, trivial HTTP server in this process (GET /health):
// it holds its rate within 2 % on the real clock (measured where the requests arrive), times
// latency from the intended send time, and stays bounded by --max-requests.
#include "bench/open_loop.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "http/server.h"

namespace dte::bench {
namespace {

namespace asio = boost::asio;

class TrivialServer {
 public:
  TrivialServer() {
    http::Router router;
    router.Get("/health", [this](http::Request&, http::Responder& res) -> asio::awaitable<void> {
      {
        std::lock_guard lock(mu_);
        arrivals_.push_back(SteadyClock::now());
      }
      co_await res.Send(200, "text/plain", "ok\n");
    });
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, std::move(router));
    EXPECT_TRUE(server_->Start().ok());
  }
  uint16_t port() const { return server_->port(); }
  std::vector<SteadyClock::time_point> arrivals() {
    std::lock_guard lock(mu_);
    return arrivals_;
  }

 private:
  std::mutex mu_;
  std::vector<SteadyClock::time_point> arrivals_;
  std::unique_ptr<http::Server> server_;
};

Scenario ConstantRate(double rate, double seconds) {
  Scenario s;
  s.open_loop = true;
  s.arrival = ArrivalKind::kConstant;
  s.stages.push_back({seconds, rate, rate});
  return s;
}

struct RunOutcome {
  nlohmann::json measurements;
  RunResult result;
};

RunOutcome RunAgainst(const TrivialServer& server, const Scenario& s, int64_t max_requests = 1'000'000) {
  Target target;
  target.host = "127.0.0.1";
  target.port = server.port();
  WorkloadOptions w;
  w.raw_path = "/health";
  LoadOptions l;
  l.scenario = s;
  l.max_duration_s = s.DurationS() + 1;
  l.max_requests = max_requests;
  l.progress = false;
  Recorder recorder;
  std::unique_ptr<RequestSource> source = ScenarioSource(s, w);
  Result<RunResult> r = RunOpenLoop(target, w, l, *source, recorder);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  RunOutcome run;
  run.result = r.ok() ? *r : RunResult{};
  run.measurements = nlohmann::json::parse(recorder.MeasurementsJson(run.result.duration_s));
  return run;
}

TEST(OpenLoopTest, HoldsItsRateWithinTwoPercentOnTheRealClock) {
  TrivialServer server;
  constexpr double kRate = 1000, kSeconds = 2;
  RunOutcome run = RunAgainst(server, ConstantRate(kRate, kSeconds));
  EXPECT_EQ(run.measurements["errors"], 0) << run.measurements["errors_by_kind"].dump();
  const std::vector<SteadyClock::time_point> at = server.arrivals();
  ASSERT_GT(at.size(), 100u);
  // The rate the server saw, between its first and last request.
  const double span = std::chrono::duration<double>(at.back() - at.front()).count();
  const double seen = static_cast<double>(at.size() - 1) / span;
  EXPECT_NEAR(seen / kRate, 1.0, 0.02) << at.size() << " requests in " << span << " s";
  EXPECT_NEAR(static_cast<double>(at.size()), kRate * kSeconds, kRate * kSeconds * 0.02);
  EXPECT_EQ(run.measurements["requests"].get<size_t>(), at.size());
  EXPECT_EQ(run.measurements["e2e_ms"]["count"].get<size_t>(), at.size());
  EXPECT_EQ(run.measurements["send_lag_ms"]["count"].get<size_t>(), at.size());
}

TEST(OpenLoopTest, MaxRequestsBoundsTheRun) {
  TrivialServer server;
  RunOutcome run = RunAgainst(server, ConstantRate(2000, 5), 300);
  EXPECT_EQ(run.measurements["requests"], 300);
  EXPECT_EQ(server.arrivals().size(), 300u);
  EXPECT_LT(run.result.duration_s, 1.0);  // 300 requests at 2000/s: ~0.15 s, not 5 s
}

TEST(OpenLoopTest, LatencyCountsFromTheIntendedSendTime) {
  // One in flight at a time against a server that answers at once: arrivals that come due
  // while the slot is busy wait, and that wait is part of their latency, so the mean latency
  // can never be below the mean lag.
  TrivialServer server;
  Target target;
  target.host = "127.0.0.1";
  target.port = server.port();
  WorkloadOptions w;
  w.raw_path = "/health";
  LoadOptions l;
  l.scenario = ConstantRate(5000, 0.5);
  l.max_duration_s = 2;
  l.max_in_flight = 1;
  l.progress = false;
  Recorder recorder;
  std::unique_ptr<RequestSource> source = ScenarioSource(l.scenario, w);
  Result<RunResult> r = RunOpenLoop(target, w, l, *source, recorder);
  ASSERT_TRUE(r.ok());
  nlohmann::json j = nlohmann::json::parse(recorder.MeasurementsJson(r->duration_s));
  EXPECT_GT(j["requests"].get<int>(), 0);
  EXPECT_GE(j["e2e_ms"]["mean"].get<double>(), j["send_lag_ms"]["mean"].get<double>());
  EXPECT_GE(j["e2e_ms"]["max"].get<double>(), j["send_lag_ms"]["max"].get<double>());
}

}  // namespace
}  // namespace dte::bench
