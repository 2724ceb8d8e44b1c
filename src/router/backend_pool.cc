#include "router/backend_pool.h"

#include <algorithm>
#include <charconv>

namespace dte::router {

Result<BackendAddress> ParseBackendUrl(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  if (rest.starts_with("https://"))
    return Status::Unsupported("https backends are not supported: " + std::string(url));
  while (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || rest.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("backend URL must be http://host:port, got '" +
                                   std::string(url) + "'");
  }
  unsigned port = 0;
  std::string_view digits = rest.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    return Status::InvalidArgument("bad port in backend URL '" + std::string(url) + "'");
  }
  BackendAddress a;
  a.host = std::string(rest.substr(0, colon));
  a.port = static_cast<uint16_t>(port);
  a.url = "http://" + a.host + ":" + std::to_string(port);
  return a;
}

Backend::Backend(BackendAddress address, asio::any_io_executor executor, UpstreamOptions upstream,
                 CircuitBreakerOptions breaker)
    : address_(std::move(address)),
      upstream_(std::move(executor), address_.host, address_.port, upstream),
      breaker_(breaker) {}

bool Backend::Eligible(SteadyClock::time_point now) const {
  return !draining() && probe_healthy() && breaker_.WouldAllow(now);
}

std::string Backend::StateName() const {
  if (draining()) return "draining";
  if (!probe_healthy()) return "unhealthy";
  const CircuitBreaker::State s = breaker_.state();
  if (s != CircuitBreaker::State::kClosed) return std::string(CircuitBreaker::StateName(s));
  return "healthy";
}

InFlight::InFlight(BackendPool& pool, std::shared_ptr<Backend> backend)
    : pool_(pool), backend_(std::move(backend)) {
  backend_->outstanding_.fetch_add(1);
  backend_->requests_.fetch_add(1);
}

InFlight::~InFlight() {
  backend_->outstanding_.fetch_sub(1);
  pool_.OnRequestDone(*backend_);
}

BackendPool::BackendPool(asio::any_io_executor executor, BackendPoolOptions options)
    : executor_(std::move(executor)), options_(options), backends_(std::make_shared<Backends>()) {}

Status BackendPool::AddBackend(std::string_view url) {
  Result<BackendAddress> address = ParseBackendUrl(url);
  if (!address.ok()) return address.status();
  auto backend = std::make_shared<Backend>(std::move(*address), executor_, options_.upstream,
                                           options_.breaker);
  std::lock_guard lock(mu_);
  for (const auto& b : *backends_) {
    if (b->url() == backend->url())
      return Status::Conflict("backend " + b->url() + " is already in the pool");
  }
  auto next = std::make_shared<Backends>(*backends_);
  next->push_back(std::move(backend));
  backends_ = std::move(next);
  return Status::Ok();
}

void BackendPool::EraseLocked(std::string_view url, std::vector<std::string>* removed) {
  auto next = std::make_shared<Backends>(*backends_);
  std::erase_if(*next, [&](const std::shared_ptr<Backend>& b) {
    if (b->url() != url) return false;
    b->upstream().CloseIdle();
    removed->push_back(b->url());
    return true;
  });
  backends_ = std::move(next);
  removed_cv_.notify_all();
}

void BackendPool::NotifyRemoved(const std::vector<std::string>& removed) {
  std::function<void(const std::string&)> listener;
  {
    std::lock_guard lock(mu_);
    listener = removal_listener_;
  }
  if (!listener) return;
  for (const std::string& url : removed) listener(url);
}

Status BackendPool::RemoveBackend(std::string_view url, bool drain) {
  Result<BackendAddress> address = ParseBackendUrl(url);
  const std::string key = address.ok() ? address->url : std::string(url);
  std::vector<std::string> removed;
  {
    std::lock_guard lock(mu_);
    std::shared_ptr<Backend> found;
    for (const auto& b : *backends_)
      if (b->url() == key) found = b;
    if (!found) return Status::NotFound("no backend " + key);
    found->draining_.store(true);
    if (!drain || found->outstanding() == 0) EraseLocked(key, &removed);
  }
  NotifyRemoved(removed);
  return Status::Ok();
}

void BackendPool::OnRequestDone(Backend& backend) {
  if (!backend.draining() || backend.outstanding() != 0) return;
  std::vector<std::string> removed;
  {
    std::lock_guard lock(mu_);
    for (const auto& b : *backends_) {
      if (b.get() == &backend) {
        EraseLocked(backend.url(), &removed);
        break;
      }
    }
  }
  NotifyRemoved(removed);
}

bool BackendPool::WaitRemoved(std::string_view url, std::chrono::milliseconds timeout) {
  Result<BackendAddress> address = ParseBackendUrl(url);
  const std::string key = address.ok() ? address->url : std::string(url);
  std::unique_lock lock(mu_);
  return removed_cv_.wait_for(lock, timeout, [&] {
    return std::none_of(backends_->begin(), backends_->end(),
                        [&](const std::shared_ptr<Backend>& b) { return b->url() == key; });
  });
}

std::vector<BackendSnapshot> BackendPool::Snapshot() const {
  std::shared_ptr<const Backends> all = All();
  std::vector<BackendSnapshot> out;
  out.reserve(all->size());
  for (const auto& b : *all) {
    out.push_back(
        {b->url(), b->Eligible(), b->StateName(), b->outstanding(), b->requests(), b->errors()});
  }
  return out;
}

std::shared_ptr<const BackendPool::Backends> BackendPool::All() const {
  std::lock_guard lock(mu_);
  return backends_;
}

std::shared_ptr<Backend> BackendPool::Find(std::string_view url) const {
  Result<BackendAddress> address = ParseBackendUrl(url);
  const std::string key = address.ok() ? address->url : std::string(url);
  for (const auto& b : *All())
    if (b->url() == key) return b;
  return nullptr;
}

size_t BackendPool::size() const { return All()->size(); }

void BackendPool::SetRemovalListener(std::function<void(const std::string& url)> listener) {
  std::lock_guard lock(mu_);
  removal_listener_ = std::move(listener);
}

}  // namespace dte::router
