#include "autoscale/controller.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "base/log.h"

namespace dte::autoscale {

namespace asio = boost::asio;

Controller::Controller(asio::any_io_executor executor, AutoscalerConfig config, Actuator& actuator,
                       TargetsFn targets, ControllerOptions options)
    : strand_(asio::make_strand(executor)),
      actuator_(actuator),
      targets_(std::move(targets)),
      options_(std::move(options)),
      events_(options_.event_capacity),
      autoscaler_(std::move(config), &events_),
      scraper_(strand_, options_.scraper),
      timer_(strand_) {
  status_ = {{"policy", std::string(PolicyName(autoscaler_.config().policy))},
             {"min_replicas", autoscaler_.config().min_replicas},
             {"max_replicas", autoscaler_.config().max_replicas},
             {"period_s", options_.period_s},
             {"actuator", std::string(actuator_.name())},
             {"steps", 0}};
}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  if (done_) return;
  done_ = asio::co_spawn(strand_, Run(), asio::use_future);
}

void Controller::Stop() {
  stop_.store(true);
  if (done_ && done_->valid()) {
    asio::post(strand_, [this] { timer_.cancel(); });
    try {
      done_->get();
    } catch (const std::exception& e) {
      LogError(std::string("autoscaler loop ended with an exception: ") + e.what());
    }
  }
}

int Controller::RequestReplicas(int replicas, const std::string& who) {
  const AutoscalerConfig& c = autoscaler_.config();
  const int clamped = std::clamp(replicas, c.min_replicas, c.max_replicas);
  {
    std::lock_guard lock(mu_);
    pending_override_ = std::make_pair(replicas, who);
  }
  asio::post(strand_, [this] { timer_.cancel(); });
  return clamped;
}

nlohmann::json Controller::StatusJson() const {
  std::lock_guard lock(mu_);
  return status_;
}

asio::awaitable<void> Controller::Run() {
  while (!stop_.load()) {
    co_await Step();
    if (stop_.load()) break;
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options_.period_s)));
    boost::system::error_code ec;  // cancelled by Stop() or an override: both just wake us
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    co_await timer_.async_wait(token);
  }
}

asio::awaitable<void> Controller::Apply(int from, int to) {
  Status s = co_await actuator_.SetReplicas(to);
  if (s.ok()) co_return;
  LogWarning("autoscaler: " + s.ToString());
  ScalingEvent e;
  e.time_s = Now();
  e.from = from;
  e.to = to;
  e.kind = "actuator_error";
  e.reason = s.ToString();
  events_.Append(std::move(e));
}

asio::awaitable<void> Controller::Step() {
  const double now = Now();
  std::optional<std::pair<int, std::string>> override_request;
  {
    std::lock_guard lock(mu_);
    override_request.swap(pending_override_);
  }
  Result<int> current = co_await actuator_.Current();
  if (!current.ok()) {
    std::lock_guard lock(mu_);
    status_["actuator_error"] = current.status().ToString();
    co_return;
  }
  if (override_request) {
    const int to =
        autoscaler_.Override(now, *current, override_request->first, override_request->second);
    if (to != *current) co_await Apply(*current, to);
    std::lock_guard lock(mu_);
    status_["desired"] = to;
    status_["reason"] = "override by " + override_request->second;
    co_return;
  }

  std::vector<std::string> urls = targets_();
  for (const std::string& old : last_targets_)
    if (std::find(urls.begin(), urls.end(), old) == urls.end()) scraper_.Forget(old);
  last_targets_ = urls;
  std::vector<ScrapeResult> scraped = co_await scraper_.ScrapeAll(urls, now);
  std::vector<WorkerLoad> loads;
  nlohmann::json errors = nlohmann::json::array();
  for (ScrapeResult& r : scraped) {
    if (r.load.ok())
      loads.push_back(std::move(*r.load));
    else
      errors.push_back({{"worker", r.url}, {"error", r.load.status().ToString()}});
  }
  const Decision d = autoscaler_.Decide(now, loads, *current);
  if (d.changed()) co_await Apply(d.current, d.desired);

  std::lock_guard lock(mu_);
  status_["current"] = d.current;
  status_["desired"] = d.desired;
  status_["reason"] = d.reason;
  status_["inputs"] = InputsJson(d.inputs);
  status_["decision_us"] = d.decision_us;
  status_["workers"] = urls;
  status_["scrape_errors"] = std::move(errors);
  status_["time_s"] = now;
  status_["steps"] = status_.value("steps", 0) + 1;
  status_.erase("actuator_error");
}

}  // namespace dte::autoscale
