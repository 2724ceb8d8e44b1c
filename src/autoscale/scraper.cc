#include "autoscale/scraper.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "autoscale/http_url.h"

namespace dte::autoscale {

namespace asio = boost::asio;

MetricsScraper::MetricsScraper(asio::any_io_executor executor, ScraperOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

MetricsScraper::~MetricsScraper() = default;

Result<MetricsScraper::Worker*> MetricsScraper::WorkerFor(const std::string& url) {
  auto it = workers_.find(url);
  if (it != workers_.end()) return &it->second;
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.status();
  http::ClientOptions co;
  co.connect_timeout = options_.timeout;
  co.io_timeout = options_.timeout;
  co.max_idle_connections = 1;
  Worker w;
  w.client = std::make_unique<http::Client>(executor_, parsed->host, parsed->port, co);
  w.path = parsed->path + options_.path;
  return &workers_.emplace(url, std::move(w)).first->second;
}

void MetricsScraper::Forget(const std::string& url) { workers_.erase(url); }

asio::awaitable<Result<WorkerLoad>> MetricsScraper::Scrape(std::string url, double now_s) {
  Result<Worker*> worker = WorkerFor(url);
  if (!worker.ok()) co_return worker.status();
  Worker* w = *worker;
  const std::string method = "GET";
  Result<http::ClientResponse> response = co_await w->client->Request(method, w->path);
  if (!response.ok()) co_return response.status().WithPrefix("scrape " + url);
  if (response->status != 200)
    co_return Status::Unavailable("scrape " + url + ": HTTP " + std::to_string(response->status));
  Result<MetricSet> metrics = ParsePrometheusText(response->body);
  if (!metrics.ok()) co_return metrics.status().WithPrefix("scrape " + url);
  Result<WorkerSample> sample = SampleFromMetrics(*metrics, now_s, options_.names);
  if (!sample.ok()) co_return sample.status().WithPrefix("scrape " + url);
  WorkerLoad load = LoadBetween(w->last ? &*w->last : nullptr, *sample);
  load.worker = url;
  w->last = std::move(*sample);
  co_return load;
}

asio::awaitable<std::optional<Result<WorkerLoad>>> MetricsScraper::ScrapeOne(std::string url,
                                                                             double now_s) {
  co_return co_await Scrape(std::move(url), now_s);
}

asio::awaitable<std::vector<ScrapeResult>> MetricsScraper::ScrapeAll(std::vector<std::string> urls,
                                                                     double now_s) {
  std::vector<ScrapeResult> out(urls.size());
  if (urls.empty()) co_return out;
  // Create the per-worker entries first, so the concurrent scrapes only read the map.
  for (const std::string& u : urls) (void)WorkerFor(u);
  // All scrapes run at once: the slowest worker bounds the round, not the sum of them.
  using Op = decltype(asio::co_spawn(executor_, ScrapeOne(std::string(), 0.0), asio::deferred));
  std::vector<Op> ops;
  for (const std::string& u : urls)
    ops.push_back(asio::co_spawn(executor_, ScrapeOne(u, now_s), asio::deferred));
  auto group = asio::experimental::make_parallel_group(std::move(ops));
  // (Arguments hoisted out of the co_await: GCC 12 mishandles temporaries inside it.)
  const asio::experimental::wait_for_all wait_all;
  auto [order, errors, results] = co_await group.async_wait(wait_all, asio::use_awaitable);
  for (size_t i = 0; i < urls.size(); ++i) {
    out[i].url = urls[i];
    if (errors[i]) {
      out[i].load = Status::Internal("scrape " + urls[i] + " threw");
    } else if (results[i]) {
      out[i].load = std::move(*results[i]);
    }
  }
  co_return out;
}

}  // namespace dte::autoscale
