#pragma once
// DnsTargets: the workers behind a Kubernetes headless Service, found by DNS. Every `refresh`
// a thread of its own resolves the URL's host (getaddrinfo: one A/AAAA record per ready pod)
// and List() returns "http://<address>:<port>" for each, so the autoscaler scrapes every pod
// rather than whichever one a ClusterIP Service would pick. Only ready pods are published by a
// headless Service, which is what the scraper wants. Thread-safe; List() never blocks on DNS.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace dte::autoscale {

// Resolves `host` now (blocking) to "http://addr:port" URLs, sorted, without duplicates.
Result<std::vector<std::string>> ResolveWorkerUrls(const std::string& host, uint16_t port);

class DnsTargets {
 public:
  // `url`: "http://dte-worker-pods:9001". Resolves once before returning.
  static Result<std::unique_ptr<DnsTargets>> Create(const std::string& url,
                                                    std::chrono::milliseconds refresh);
  ~DnsTargets();
  DnsTargets(const DnsTargets&) = delete;
  DnsTargets& operator=(const DnsTargets&) = delete;

  // The last successful resolution (a failed one keeps the previous list).
  std::vector<std::string> List() const;
  Status last_error() const;

 private:
  DnsTargets(std::string host, uint16_t port, std::chrono::milliseconds refresh);
  void Loop();

  const std::string host_;
  const uint16_t port_;
  const std::chrono::milliseconds refresh_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> urls_;  // guarded by mu_
  Status last_error_;              // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  std::thread thread_;
};

}  // namespace dte::autoscale
