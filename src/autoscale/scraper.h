#pragma once
// MetricsScraper: GETs /metrics from each worker, parses the exposition and turns each
// worker's successive samples into WorkerLoads (rates and TTFT p95 over the interval since
// its previous scrape). Keeps one keep-alive Client and the last sample per worker URL.
//
//   MetricsScraper scraper(executor);
//   std::vector<ScrapeResult> r = co_await scraper.ScrapeAll(urls, now_s);
//
// A worker's first scrape gives gauges only (no rates yet). Workers scraped concurrently.
// Threading: one control loop owns the scraper; ScrapeAll/Scrape/Forget must not overlap,
// and the executor must be single-threaded or a strand (the concurrent scrapes share state).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autoscale/worker_sample.h"
#include "base/status.h"
#include "http/client.h"

namespace dte::autoscale {

struct ScrapeResult {
  std::string url;
  Result<WorkerLoad> load = Status::Unavailable("not scraped");
};

struct ScraperOptions {
  std::string path = "/metrics";
  std::chrono::milliseconds timeout{2'000};
  MetricNames names;
};

class MetricsScraper {
 public:
  explicit MetricsScraper(boost::asio::any_io_executor executor, ScraperOptions options = {});
  ~MetricsScraper();

  // One scrape of every URL ("http://host:port"); results in the order of `urls`.
  boost::asio::awaitable<std::vector<ScrapeResult>> ScrapeAll(std::vector<std::string> urls,
                                                              double now_s);
  // One worker.
  boost::asio::awaitable<Result<WorkerLoad>> Scrape(std::string url, double now_s);
  // Drops a worker's client and last sample (call when it leaves the fleet).
  void Forget(const std::string& url);
  size_t known_workers() const { return workers_.size(); }

 private:
  struct Worker {
    std::unique_ptr<http::Client> client;
    std::string path;
    std::optional<WorkerSample> last;
  };
  Result<Worker*> WorkerFor(const std::string& url);
  boost::asio::awaitable<std::optional<Result<WorkerLoad>>> ScrapeOne(std::string url,
                                                                      double now_s);

  boost::asio::any_io_executor executor_;
  ScraperOptions options_;
  std::map<std::string, Worker> workers_;
};

}  // namespace dte::autoscale
