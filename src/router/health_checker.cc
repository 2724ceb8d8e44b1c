#include "router/health_checker.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <set>

#include "base/log.h"
#include "http/client.h"

namespace dte::router {

struct HealthChecker::State {
  State(asio::any_io_executor ex, BackendPool& p, HealthCheckOptions o, TransitionFn t)
      : executor(asio::make_strand(ex)),
        pool(p),
        options(std::move(o)),
        on_transition(std::move(t)),
        timer(executor) {}

  asio::any_io_executor executor;  // a strand: the loop, the probes' bookkeeping and Stop's cancel
  BackendPool& pool;
  const HealthCheckOptions options;
  const TransitionFn on_transition;
  asio::steady_timer timer;  // touched only on the executor (Stop posts)
  std::atomic<bool> stopped{false};
  std::mutex mu;
  std::map<std::string, std::shared_ptr<http::Client>> clients;  // by url; guarded by mu
  std::set<std::string> probing;                                 // guarded by mu
};

namespace {

asio::awaitable<void> Probe(std::shared_ptr<HealthChecker::State> s,
                            std::shared_ptr<Backend> backend,
                            std::shared_ptr<http::Client> client) {
  bool ok = false;
  try {
    const std::string path = s->options.path;
    auto r = co_await client->Request("GET", path);
    ok = r.ok() && r->status == 200;
  } catch (const std::exception&) {
    ok = false;
  }
  {
    std::lock_guard lock(s->mu);
    s->probing.erase(backend->url());
  }
  if (s->stopped) co_return;
  if (ok) {
    backend->probe_failures = 0;
    if (++backend->probe_successes >= s->options.rise && !backend->probe_healthy()) {
      backend->set_probe_healthy(true);
      LogInfo("dte route: backend " + backend->url() + " is healthy again");
      if (s->on_transition) s->on_transition(backend->url(), true);
    }
  } else {
    backend->probe_successes = 0;
    if (++backend->probe_failures >= s->options.fall && backend->probe_healthy()) {
      backend->set_probe_healthy(false);
      LogWarning("dte route: backend " + backend->url() + " failed " +
                 std::to_string(s->options.fall) + " probes; ejected");
      if (s->on_transition) s->on_transition(backend->url(), false);
    }
  }
}

void LaunchProbes(const std::shared_ptr<HealthChecker::State>& s) {
  std::shared_ptr<const BackendPool::Backends> all = s->pool.All();
  std::lock_guard lock(s->mu);
  std::map<std::string, std::shared_ptr<http::Client>> clients;
  for (const auto& b : *all) {
    auto it = s->clients.find(b->url());
    std::shared_ptr<http::Client> client;
    if (it != s->clients.end()) {
      client = it->second;
    } else {
      http::ClientOptions co;
      co.connect_timeout = s->options.timeout;
      co.io_timeout = s->options.timeout;
      co.max_idle_connections = 1;
      client =
          std::make_shared<http::Client>(s->executor, b->address().host, b->address().port, co);
    }
    clients.emplace(b->url(), client);
    if (b->draining() || !s->probing.insert(b->url()).second) continue;
    asio::co_spawn(s->executor, Probe(s, b, client), asio::detached);
  }
  s->clients.swap(clients);  // forgets the clients of removed backends
}

asio::awaitable<void> Loop(std::shared_ptr<HealthChecker::State> s) {
  while (!s->stopped) {
    LaunchProbes(s);
    s->timer.expires_after(s->options.interval);
    auto [ec] = co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }
}

}  // namespace

HealthChecker::HealthChecker(asio::any_io_executor executor, BackendPool& pool,
                             HealthCheckOptions options, TransitionFn on_transition)
    : state_(std::make_shared<State>(std::move(executor), pool, std::move(options),
                                     std::move(on_transition))) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::Start() { asio::co_spawn(state_->executor, Loop(state_), asio::detached); }

void HealthChecker::Stop() {
  if (state_->stopped.exchange(true)) return;
  auto s = state_;
  asio::post(s->executor, [s] { s->timer.cancel(); });
}

}  // namespace dte::router
