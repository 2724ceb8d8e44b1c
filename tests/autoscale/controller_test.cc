// The control loop end to end on loopback: fake workers (http::Server) serve /metrics in the
// text format `dte serve` uses; a LocalProcessActuator whose callbacks start and stop such
// workers plays the supervisor. Also the metrics scraper against real sockets.

#include "autoscale/controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "test_loop.h"

namespace dte::autoscale {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Serves a /metrics page whose gauges the test sets.
class FakeWorker {
 public:
  FakeWorker() {
    http::Router r;
    r.Get("/metrics", [this](http::Request&, http::Responder& res) -> asio::awaitable<void> {
      std::string body = Page();
      co_await res.Send(200, "text/plain; version=0.0.4", std::move(body));
    });
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, std::move(r));
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakeWorker() { server_->Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void Set(double queue, double active, double completions) {
    queue_ = queue;
    active_ = active;
    completions_ = completions;
  }

 private:
  std::string Page() const {
    return "# TYPE dte_queue_depth gauge\ndte_queue_depth " + std::to_string(queue_.load()) +
           "\n# TYPE dte_active_sequences gauge\ndte_active_sequences " +
           std::to_string(active_.load()) +
           "\n# TYPE dte_requests_total counter\n"
           "dte_requests_total{code=\"200\",route=\"/v1/completions\"} " +
           std::to_string(completions_.load()) +
           "\n# TYPE dte_time_to_first_token_seconds histogram\n"
           "dte_time_to_first_token_seconds_bucket{le=\"0.5\"} 0\n"
           "dte_time_to_first_token_seconds_bucket{le=\"+Inf\"} 0\n"
           "dte_time_to_first_token_seconds_sum 0\ndte_time_to_first_token_seconds_count 0\n";
  }
  std::atomic<double> queue_{0}, active_{0}, completions_{0};
  std::unique_ptr<http::Server> server_;
};

// Plays `dte up`'s supervisor: workers it started, all ready at once.
class FakeSupervisor {
 public:
  explicit FakeSupervisor(int n) {
    for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<FakeWorker>());
  }
  LocalProcessCallbacks Callbacks() {
    LocalProcessCallbacks cb;
    cb.count = [this] {
      std::lock_guard lock(mu_);
      return static_cast<int>(workers_.size());
    };
    cb.spawn_one = [this]() -> asio::awaitable<Status> {
      auto w = std::make_unique<FakeWorker>();
      std::lock_guard lock(mu_);
      workers_.push_back(std::move(w));
      ++spawned_;
      co_return Status::Ok();
    };
    cb.stop_one = [this]() -> asio::awaitable<Status> {
      std::unique_ptr<FakeWorker> gone;
      std::lock_guard lock(mu_);
      if (workers_.empty()) co_return Status::NotFound("no worker");
      gone = std::move(workers_.back());
      workers_.pop_back();
      ++stopped_;
      co_return Status::Ok();
    };
    return cb;
  }
  std::vector<std::string> Urls() {
    std::lock_guard lock(mu_);
    std::vector<std::string> v;
    for (auto& w : workers_) v.push_back(w->url());
    return v;
  }
  void SetAll(double queue, double active, double completions) {
    std::lock_guard lock(mu_);
    for (auto& w : workers_) w->Set(queue, active, completions);
  }
  int spawned() const { return spawned_.load(); }
  int stopped() const { return stopped_.load(); }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<FakeWorker>> workers_;
  std::atomic<int> spawned_{0}, stopped_{0};
};

AutoscalerConfig Config() {
  AutoscalerConfig c;
  c.min_replicas = 1;
  c.max_replicas = 6;
  c.max_batch = 8;
  c.queue_capacity = 4;
  c.ttft_slo_s = 2;
  c.scale_up_cooldown_s = 0;
  c.scale_down_window_s = 0;
  c.scale_down_cooldown_s = 0;
  return c;
}

TEST(ScraperTest, ScrapesRealSocketsAndReportsFailures) {
  testing::Loop loop;
  FakeWorker a, b;
  a.Set(2, 3, 10);
  b.Set(0, 1, 0);
  MetricsScraper scraper(loop.ioc().get_executor());
  std::vector<std::string> urls = {a.url(), "http://127.0.0.1:1", b.url(), "https://x:1"};
  auto first = loop.Run([&]() -> asio::awaitable<std::vector<ScrapeResult>> {
    co_return co_await scraper.ScrapeAll(urls, 0.0);
  });
  ASSERT_EQ(first.size(), 4u);
  ASSERT_TRUE(first[0].load.ok()) << first[0].load.status().ToString();
  EXPECT_EQ(first[0].load->worker, a.url());
  EXPECT_DOUBLE_EQ(first[0].load->queue_depth, 2);
  EXPECT_DOUBLE_EQ(first[0].load->active_sequences, 3);
  EXPECT_FALSE(first[1].load.ok());  // connection refused
  EXPECT_TRUE(first[2].load.ok());
  EXPECT_EQ(first[3].load.status().code(), StatusCode::kUnsupported);
  a.Set(2, 3, 30);  // 20 more requests in 10 s
  auto second = loop.Run([&]() -> asio::awaitable<std::vector<ScrapeResult>> {
    co_return co_await scraper.ScrapeAll(urls, 10.0);
  });
  ASSERT_TRUE(second[0].load.ok());
  EXPECT_DOUBLE_EQ(second[0].load->request_rate, 2.0);
  scraper.Forget(a.url());
  EXPECT_EQ(scraper.known_workers(), 2u);  // the https URL never got a client
}

TEST(LocalProcessActuatorTest, SpawnsAndStopsThroughTheCallbacks) {
  testing::Loop loop;
  FakeSupervisor sup(2);
  LocalProcessActuator act(sup.Callbacks());
  Status up = loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(5); });
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(sup.spawned(), 3);
  Status down =
      loop.Run([&]() -> asio::awaitable<Status> { co_return co_await act.SetReplicas(1); });
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(sup.stopped(), 4);
  std::optional<Result<int>> now = loop.Run(
      [&]() -> asio::awaitable<std::optional<Result<int>>> { co_return co_await act.Current(); });
  ASSERT_TRUE(now && now->ok());
  EXPECT_EQ(**now, 1);
}

TEST(ControllerTest, ScalesOutOnQueueingWorkersAndLogsWhy) {
  testing::Loop loop;
  FakeSupervisor sup(2);
  sup.SetAll(/*queue=*/4, /*active=*/8, 0);  // full batch + full queue: load 1.5
  LocalProcessActuator act(sup.Callbacks());
  Controller c(loop.ioc().get_executor(), Config(), act, [&] { return sup.Urls(); });
  loop.Run([&]() -> asio::awaitable<void> { co_await c.Step(); });
  EXPECT_EQ(sup.spawned(), 3);  // load (8 + 4) / 8 = 1.5: ceil(2 * 1.5 / 0.6) = 5
  nlohmann::json status = c.StatusJson();
  EXPECT_EQ(status["current"], 2);
  EXPECT_EQ(status["policy"], "hpa");
  EXPECT_EQ(status["actuator"], "local");
  EXPECT_EQ(status["workers"].size(), 2u);
  EXPECT_EQ(status["scrape_errors"].size(), 0u);
  std::vector<ScalingEvent> events = c.events().Recent();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "scale_up");
  EXPECT_NE(events[0].reason.find("concurrency"), std::string::npos) << events[0].reason;
}

TEST(ControllerTest, OverrideAndScaleInThroughTheRunningLoop) {
  testing::Loop loop;
  FakeSupervisor sup(3);
  sup.SetAll(0, 4, 0);  // load 0.5: inside the band, nothing to do
  LocalProcessActuator act(sup.Callbacks());
  ControllerOptions o;
  o.period_s = 0.05;
  Controller c(
      loop.ioc().get_executor(), Config(), act, [&] { return sup.Urls(); }, o);
  c.Start();
  auto eventually = [](auto pred) {
    for (int i = 0; i < 400 && !pred(); ++i) std::this_thread::sleep_for(10ms);
    return pred();
  };
  ASSERT_TRUE(eventually([&] { return c.StatusJson().value("steps", 0) >= 2; }));
  EXPECT_EQ(c.events().total(), 0u);
  EXPECT_EQ(c.RequestReplicas(99, "test"), 6);  // clamped to max
  ASSERT_TRUE(eventually([&] { return sup.Urls().size() == 6; }));
  // The workers go idle: the loop scales in to min (no down window in this config).
  sup.SetAll(0, 0, 0);
  ASSERT_TRUE(eventually([&] { return sup.Urls().size() == 1; }));
  c.Stop();
  std::vector<ScalingEvent> events = c.events().Recent();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "override");
  EXPECT_EQ(events[0].to, 6);
  EXPECT_EQ(events.back().kind, "scale_down");
  EXPECT_EQ(events.back().to, 1);
}

TEST(ControllerTest, ActuatorFailureIsAnEvent) {
  testing::Loop loop;
  FakeSupervisor sup(1);
  sup.SetAll(4, 8, 0);
  LocalProcessCallbacks cb = sup.Callbacks();
  cb.spawn_one = []() -> asio::awaitable<Status> {
    co_return Status::ResourceExhausted("no free port");
  };
  LocalProcessActuator act(cb);
  Controller c(loop.ioc().get_executor(), Config(), act, [&] { return sup.Urls(); });
  loop.Run([&]() -> asio::awaitable<void> { co_await c.Step(); });
  std::vector<ScalingEvent> events = c.events().Recent();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, "actuator_error");
  EXPECT_NE(events[1].reason.find("no free port"), std::string::npos) << events[1].reason;
}

}  // namespace
}  // namespace dte::autoscale
