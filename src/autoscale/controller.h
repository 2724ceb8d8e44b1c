#pragma once
// Controller: the autoscaler's control loop. Every `period_s` it scrapes the ready workers'
// /metrics (MetricsScraper), asks the Autoscaler for a decision, and applies a change through
// the Actuator; admin overrides (POST /v1/scaling/replicas) are applied at once. It owns the
// policy, the scraper and the EventLog; the owner owns the Actuator and the executor.
//
//   Controller c(io.get_executor(), config, actuator, [&] { return supervisor.ReadyUrls(); });
//   c.Start();                     // runs on a strand of the executor
//   ... c.StatusJson(), c.events().ToJson(50), c.RequestReplicas(4, "admin") ...
//   c.Stop();                      // from a thread that is not running the executor
//
// Threading: Start/Stop from the owner's thread; RequestReplicas, StatusJson and events() from
// any thread; the loop itself runs on its strand. `targets` is called on the strand and must
// be thread-safe with respect to the owner's bookkeeping.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "autoscale/actuator.h"
#include "autoscale/autoscaler.h"
#include "autoscale/event_log.h"
#include "autoscale/scraper.h"
#include "base/clock.h"

namespace dte::autoscale {

// Base URLs ("http://127.0.0.1:9001") of the workers that are ready now (not starting, not
// draining): the ones whose metrics describe the fleet's load.
using TargetsFn = std::function<std::vector<std::string>()>;

struct ControllerOptions {
  double period_s = 5;
  size_t event_capacity = 256;
  ScraperOptions scraper;
};

class Controller {
 public:
  Controller(boost::asio::any_io_executor executor, AutoscalerConfig config, Actuator& actuator,
             TargetsFn targets, ControllerOptions options = {});
  ~Controller();  // calls Stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void Start();
  // Ends the loop and waits for it (at most one scrape timeout plus one actuation); the
  // executor must still be running. Idempotent.
  void Stop();

  // One iteration (scrape, decide, act), for tests and for owners that run their own timer.
  boost::asio::awaitable<void> Step();

  // Records an override and wakes the loop to apply it; returns the count it will apply
  // (clamped to [min, max]). Thread-safe.
  int RequestReplicas(int replicas, const std::string& who);
  // {"policy", "current", "desired", "reason", "inputs", "decision_us", "workers",
  //  "scrape_errors", "min_replicas", "max_replicas", "period_s", "steps", "actuator", ...}
  nlohmann::json StatusJson() const;
  EventLog& events() { return events_; }
  const AutoscalerConfig& config() const { return autoscaler_.config(); }

 private:
  boost::asio::awaitable<void> Run();
  // SetReplicas; a failure becomes an "actuator_error" event.
  boost::asio::awaitable<void> Apply(int from, int to);
  double Now() const { return SecondsSince(start_); }

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Actuator& actuator_;
  TargetsFn targets_;
  ControllerOptions options_;
  EventLog events_;
  Autoscaler autoscaler_;   // used on the strand only
  MetricsScraper scraper_;  // used on the strand only
  boost::asio::steady_timer timer_;
  const SteadyClock::time_point start_ = SteadyClock::now();
  std::vector<std::string> last_targets_;  // strand only

  std::atomic<bool> stop_{false};
  std::optional<std::future<void>> done_;

  mutable std::mutex mu_;
  std::optional<std::pair<int, std::string>> pending_override_;  // guarded by mu_
  nlohmann::json status_;                                        // guarded by mu_
};

}  // namespace dte::autoscale
