#include "autoscale/dns_targets.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include "autoscale/http_url.h"

namespace dte::autoscale {

Result<std::vector<std::string>> ResolveWorkerUrls(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) return Status::Unavailable("resolve " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, &::freeaddrinfo);
  std::vector<std::string> urls;
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text,
                  sizeof text);
      urls.push_back("http://" + std::string(text) + ":" + std::to_string(port));
    } else if (a->ai_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                  sizeof text);
      urls.push_back("http://[" + std::string(text) + "]:" + std::to_string(port));
    }
  }
  std::sort(urls.begin(), urls.end());
  urls.erase(std::unique(urls.begin(), urls.end()), urls.end());
  if (urls.empty()) return Status::Unavailable("resolve " + host + ": no addresses");
  return urls;
}

Result<std::unique_ptr<DnsTargets>> DnsTargets::Create(const std::string& url,
                                                       std::chrono::milliseconds refresh) {
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.status();
  std::unique_ptr<DnsTargets> t(new DnsTargets(parsed->host, parsed->port, refresh));
  return t;
}

DnsTargets::DnsTargets(std::string host, uint16_t port, std::chrono::milliseconds refresh)
    : host_(std::move(host)), port_(port), refresh_(refresh) {
  Result<std::vector<std::string>> first = ResolveWorkerUrls(host_, port_);
  if (first.ok())
    urls_ = std::move(*first);
  else
    last_error_ = first.status();
  thread_ = std::thread([this] { Loop(); });
}

DnsTargets::~DnsTargets() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::vector<std::string> DnsTargets::List() const {
  std::lock_guard lock(mu_);
  return urls_;
}

Status DnsTargets::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void DnsTargets::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, refresh_, [&] { return stop_; })) {
    lock.unlock();
    Result<std::vector<std::string>> urls = ResolveWorkerUrls(host_, port_);
    lock.lock();
    if (urls.ok()) {
      urls_ = std::move(*urls);
      last_error_ = Status::Ok();
    } else {
      last_error_ = urls.status();
    }
  }
}

}  // namespace dte::autoscale
