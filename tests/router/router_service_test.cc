// RouterService against in-process fake backends (http::Server) on loopback: proxying, retries,
// the breaker, streaming without buffering, cancellation of the backend request, probes and
// the admin endpoints. Real sockets, real HTTP; no model needed.
#include "router/router_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "http/client.h"
#include "http/server.h"

namespace dte::router {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::use_awaitable);
}

// A stand-in worker: /v1/models names it; /v1/completions answers `status` (or streams, hangs
// until cancelled, per the body); /v1/chat/completions streams one event, waits for `gate`, then
// the rest; /ready answers 200 unless `hang_ready`.
struct FakeBackend {
  explicit FakeBackend(std::string n) : name(std::move(n)) {
    http::Router r;
    r.Get("/v1/models", [this](http::Request&, http::Responder& res) -> asio::awaitable<void> {
      const std::string body = R"({"name":")" + name + R"("})";
      co_await res.Send(200, "application/json", body);
    });
    r.Post("/v1/completions",
           [this](http::Request& req, http::Responder& res) -> asio::awaitable<void> {
             ++completions;
             if (req.body.find("hang") != std::string::npos) {
               for (int i = 0; i < 500 && !req.cancelled(); ++i) co_await Sleep(10ms);
               if (req.cancelled()) cancelled_seen = true;
               co_return;
             }
             if (req.body.find("break") != std::string::npos) {  // a stream that dies midway
               if (co_await res.StartStream(200, "text/event-stream"))
                 co_await res.Write("data: 1\n\n");
               throw std::runtime_error("worker crashed");
             }
             const std::string body =
                 R"({"name":")" + name + R"(","echo":)" + json(req.body).dump() + "}";
             co_await res.Send(status.load(), "application/json", body);
           });
    r.Post("/v1/chat/completions",
           [this](http::Request&, http::Responder& res) -> asio::awaitable<void> {
             if (!co_await res.StartStream(200, "text/event-stream")) co_return;
             if (!co_await res.Write("data: 1\n\n")) co_return;
             int waited = 0;
             while (!gate.load() && waited < 300) {
               co_await Sleep(10ms);
               ++waited;
             }
             const std::string rest =
                 gate.load() ? "data: 2\n\ndata: [DONE]\n\n" : "data: timeout\n\n";
             co_await res.Write(rest);
             co_await res.Finish();
           });
    r.Get("/ready", [this](http::Request& req, http::Responder& res) -> asio::awaitable<void> {
      while (hang_ready.load() && !req.cancelled()) co_await Sleep(10ms);
      const std::string body = "{}";
      co_await res.Send(200, "application/json", body);
    });
    http::ServerOptions o;
    o.port = 0;
    server = std::make_unique<http::Server>(o, std::move(r));
    EXPECT_TRUE(server->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  std::string name;
  std::atomic<int> status{200};
  std::atomic<bool> gate{false}, hang_ready{false}, cancelled_seen{false};
  std::atomic<int> completions{0};
  std::unique_ptr<http::Server> server;
};

template <class T>
asio::awaitable<void> Deliver(asio::awaitable<T> work, std::promise<T>* done) {
  T value = co_await std::move(work);
  done->set_value(std::move(value));
}

// Runs `work` on `io` (another thread) and waits for its value.
template <class T>
T RunOn(asio::io_context& io, asio::awaitable<T> work) {
  std::promise<T> done;
  std::future<T> value = done.get_future();
  asio::co_spawn(io, Deliver(std::move(work), &done), asio::detached);
  return value.get();
}

// A client on its own io thread.
class TestClient {
 public:
  explicit TestClient(uint16_t port)
      : guard_(io_.get_executor()), client_(io_.get_executor(), "127.0.0.1", port) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestClient() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  Result<http::ClientResponse> Request(std::string method, std::string target,
                                       std::string body = {}) {
    http::Headers h;
    if (!body.empty()) h.Add("Content-Type", "application/json");
    return RunOn(io_, client_.Request(method, target, h, body));
  }
  Result<http::ClientResponse> Stream(std::string target, std::string body, http::ChunkFn fn) {
    http::Headers h;
    h.Add("Content-Type", "application/json");
    return RunOn(io_, client_.Stream("POST", target, h, body, std::move(fn)));
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  http::Client client_;
  std::thread thread_;
};

RouterOptions Options(std::vector<std::string> backends, std::string policy = "round_robin") {
  RouterOptions o;
  o.port = 0;
  o.policy = std::move(policy);
  o.backends = std::move(backends);
  o.health.interval = 50ms;
  o.health.timeout = 200ms;
  o.pool.breaker.open_duration = 10s;  // stays open for the length of a test
  return o;
}

std::string NameOf(const Result<http::ClientResponse>& r) {
  if (!r.ok()) return "error: " + r.status().ToString();
  const json j = json::parse(r->body, nullptr, false);
  return j.is_object() && j.contains("name") ? j["name"].get<std::string>()
                                             : "status " + std::to_string(r->status);
}

json Backends(TestClient& c) {
  auto r = c.Request("GET", "/v1/backends");
  return r.ok() ? json::parse(r->body, nullptr, false) : json();
}

std::string StateOf(TestClient& c, const std::string& url) {
  const json all = Backends(c);
  for (const json& b : all["data"])
    if (b["url"] == url) return b["state"].get<std::string>();
  return "absent";
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

TEST(RouterService, RoundRobinAlternatesAndTagsTheBackend) {
  FakeBackend a("a"), b("b");
  auto service = RouterService::Create(Options({a.url(), b.url()}));
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE((*service)->Start().ok());
  TestClient c((*service)->port());
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) {
    auto r = c.Request("GET", "/v1/models");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    ++seen[NameOf(r)];
    auto tag = r->headers.Get("X-DTE-Backend");
    ASSERT_TRUE(tag.has_value());
    EXPECT_EQ(*tag, NameOf(r) == "a" ? a.url() : b.url());
  }
  EXPECT_EQ(seen["a"], 3);
  EXPECT_EQ(seen["b"], 3);
  // The body reaches the backend intact.
  const std::string body = R"({"prompt":"héllo \"quoted\"","max_tokens":3})";
  auto r = c.Request("POST", "/v1/completions", body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::parse(r->body)["echo"], body);
}

TEST(RouterService, A503IsRetriedOnAnotherBackendBeforeTheClientSeesIt) {
  FakeBackend a("a"), b("b");
  a.status = 503;
  auto service = RouterService::Create(Options({a.url(), b.url()}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  for (int i = 0; i < 6; ++i) {
    auto r = c.Request("POST", "/v1/completions", R"({"prompt":"x"})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << i;
    EXPECT_EQ(NameOf(r), "b");
  }
  EXPECT_GT(a.completions.load(), 0);
  auto metrics = c.Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("dte_router_retries_total"), std::string::npos);
  EXPECT_EQ(metrics->body.find("dte_router_retries_total 0\n"), std::string::npos) << metrics->body;
}

TEST(RouterService, ARefusedBackendIsTrippedAndTheClientNeverNotices) {
  FakeBackend b("b");
  uint16_t dead_port;
  {
    FakeBackend gone("gone");
    dead_port = gone.server->port();
  }  // closed: connections to it are refused
  const std::string dead = "http://127.0.0.1:" + std::to_string(dead_port);
  auto service = RouterService::Create(Options({dead, b.url()}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  for (int i = 0; i < 8; ++i) {
    auto r = c.Request("POST", "/v1/completions", R"({"prompt":"x"})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << i;
  }
  const std::string state = StateOf(c, dead);
  EXPECT_TRUE(state == "open" || state == "unhealthy") << state;
}

TEST(RouterService, NoBackendMeans503WithAnErrorBody) {
  auto service = RouterService::Create(Options({}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  auto r = c.Request("POST", "/v1/completions", R"({"prompt":"x"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "backend_unavailable");
  EXPECT_EQ(c.Request("GET", "/ready")->status, 503);
  EXPECT_EQ(c.Request("GET", "/health")->status, 200);
}

TEST(RouterService, StreamsArePassedOnChunkByChunk) {
  FakeBackend a("a");
  auto service = RouterService::Create(Options({a.url()}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  std::vector<std::string> chunks;
  auto r = c.Stream("/v1/chat/completions", R"({"messages":[]})",
                    [&](std::string_view chunk) -> asio::awaitable<bool> {
                      chunks.emplace_back(chunk);
                      a.gate =
                          true;  // the backend sends the rest only once the first event got here
                      co_return true;
                    });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers.GetOr("Content-Type"), "text/event-stream");
  std::string all;
  for (const auto& ch : chunks) all += ch;
  EXPECT_EQ(all, "data: 1\n\ndata: 2\n\ndata: [DONE]\n\n")
      << "a buffering proxy would time the backend out";
  ASSERT_GE(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], "data: 1\n\n");
}

TEST(RouterService, AStreamThatBreaksOffReachesTheClientTruncatedNotComplete) {
  FakeBackend a("a");
  auto service = RouterService::Create(Options({a.url()}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  std::string got;
  auto r = c.Stream("/v1/completions", R"({"break":true})",
                    [&](std::string_view chunk) -> asio::awaitable<bool> {
                      got += chunk;
                      co_return true;
                    });
  EXPECT_EQ(got, "data: 1\n\n");
  EXPECT_FALSE(r.ok()) << "the client must see the stream end abnormally";
  // The router itself carries on.
  EXPECT_EQ(NameOf(c.Request("GET", "/v1/models")), "a");
}

TEST(RouterService, AClientThatLeavesCancelsTheBackendRequest) {
  FakeBackend a("a");
  auto service = RouterService::Create(Options({a.url()}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), (*service)->port()});
    const std::string body = R"({"hang":true})";
    const std::string req =
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
        "application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::write(s, asio::buffer(req));
    ASSERT_TRUE(WaitFor([&] { return a.completions.load() == 1; }, 2s));
  }  // the client closes its connection while the backend has sent nothing
  EXPECT_TRUE(WaitFor([&] { return a.cancelled_seen.load(); }, 3s))
      << "the backend never saw the disconnect";
}

TEST(RouterService, AHungBackendIsEjectedByProbesAndReadmitted) {
  FakeBackend a("a"), b("b");
  auto service = RouterService::Create(Options({a.url(), b.url()}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  a.hang_ready = true;
  ASSERT_TRUE(WaitFor([&] { return StateOf(c, a.url()) == "unhealthy"; }, 3s))
      << StateOf(c, a.url());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(NameOf(c.Request("GET", "/v1/models")), "b");
  a.hang_ready = false;
  EXPECT_TRUE(WaitFor([&] { return StateOf(c, a.url()) == "healthy"; }, 3s)) << StateOf(c, a.url());
  std::map<std::string, int> seen;
  for (int i = 0; i < 4; ++i) ++seen[NameOf(c.Request("GET", "/v1/models"))];
  EXPECT_EQ(seen["a"], 2);
}

TEST(RouterService, AdminEndpointsAddAndDrainBackends) {
  FakeBackend a("a"), b("b");
  auto service = RouterService::Create(Options({a.url()}));
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  auto added = c.Request("POST", "/v1/backends", json{{"url", b.url()}}.dump());
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->status, 201);
  EXPECT_EQ(c.Request("POST", "/v1/backends", json{{"url", b.url()}}.dump())->status, 409);
  EXPECT_EQ(Backends(c)["data"].size(), 2u);
  EXPECT_EQ(Backends(c)["policy"], "round_robin");
  auto removed = c.Request("DELETE", "/v1/backends?url=" + a.url());
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->status, 200);
  EXPECT_EQ(StateOf(c, a.url()), "absent");  // idle: drained at once
  for (int i = 0; i < 3; ++i) EXPECT_EQ(NameOf(c.Request("GET", "/v1/models")), "b");
  EXPECT_EQ(c.Request("DELETE", "/v1/backends?url=" + a.url())->status, 404);
}

TEST(RouterService, TheOwnerCanAddRoutes) {
  RouterOptions o = Options({});
  o.extra_routes = [](http::Router& r) {
    r.Get("/v1/scaling/status", [](http::Request&, http::Responder& res) -> asio::awaitable<void> {
      const std::string body = R"({"replicas":1})";
      co_await res.Send(200, "application/json", body);
    });
  };
  auto service = RouterService::Create(o);
  ASSERT_TRUE(service.ok() && (*service)->Start().ok());
  TestClient c((*service)->port());
  auto r = c.Request("GET", "/v1/scaling/status");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"replicas":1})");
}

// Spans of one stored trace, by name (the last of each name) and all of them.
std::vector<json> SpansOf(TestClient& c, const std::string& trace_id) {
  auto r = c.Request("GET", "/v1/traces/" + trace_id);
  if (!r.ok() || r->status != 200) return {};
  const json j = json::parse(r->body, nullptr, false);
  return j["spans"].get<std::vector<json>>();
}

std::string OnlyTraceId(TestClient& c, const std::string& query) {
  auto r = c.Request("GET", "/v1/traces?" + query);
  if (!r.ok()) return "error";
  const json j = json::parse(r->body, nullptr, false);
  if (j["traces"].size() != 1) return "traces: " + j.dump();
  return j["traces"][0]["trace_id"].get<std::string>();
}

TEST(RouterService, EachAttemptIsAnUpstreamSpanUnderTheProxySpan) {
  FakeBackend a("a"), b("b");
  a.status = 503;  // declined: retried on b
  RouterOptions o = Options({a.url(), b.url()});
  o.observability.log_requests = false;
  auto service = RouterService::Create(o);
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE((*service)->Start().ok());
  TestClient c((*service)->port());
  auto r = c.Request("POST", "/v1/completions", R"({"prompt":"x"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  const std::string id = OnlyTraceId(c, "name=router.proxy");
  const std::vector<json> spans = SpansOf(c, id);
  ASSERT_EQ(spans.size(), 3u) << id;
  json proxy;
  std::map<int64_t, json> attempts;
  for (const json& s : spans) {
    if (s["name"] == "router.proxy") proxy = s;
    if (s["name"] == "router.upstream") attempts[s["attributes"]["dte.attempt"]] = s;
  }
  EXPECT_EQ(proxy["parent_span_id"], "");
  EXPECT_EQ(proxy["attributes"]["dte.backend"], b.url());
  EXPECT_EQ(proxy["attributes"]["http.response.status_code"], 200);
  EXPECT_EQ(proxy["status"]["code"], "unset");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1]["attributes"]["dte.backend"], a.url());
  EXPECT_EQ(attempts[1]["attributes"]["http.response.status_code"], 503);
  EXPECT_EQ(attempts[1]["status"]["code"], "error");
  EXPECT_EQ(attempts[2]["attributes"]["dte.backend"], b.url());
  for (auto& [n, s] : attempts) EXPECT_EQ(s["parent_span_id"], proxy["span_id"]);
}

TEST(RouterService, A5xxMarksTheTraceAsFailed) {
  FakeBackend a("a");
  a.status = 500;
  RouterOptions o = Options({a.url()});
  o.observability.log_requests = false;
  auto service = RouterService::Create(o);
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE((*service)->Start().ok());
  TestClient c((*service)->port());
  auto r = c.Request("POST", "/v1/completions", R"({"prompt":"x"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  ASSERT_TRUE(c.Request("GET", "/v1/models").ok());
  const std::string failed = OnlyTraceId(c, "status=error");
  ASSERT_EQ(failed.size(), 32u) << failed;
  for (const json& s : SpansOf(c, failed)) EXPECT_EQ(s["status"]["code"], "error") << s.dump();
  auto bad = c.Request("GET", "/v1/traces?limit=0");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
}

TEST(RouterService, AlertsDashboardAndScalingEvents) {
  FakeBackend a("a");
  RouterOptions o = Options({a.url()});
  o.observability.alert_interval_s = 0.05;
  auto service = RouterService::Create(o);
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE((*service)->Start().ok());
  TestClient c((*service)->port());
  (*service)->dashboard_history().AddScalingEvent({1764232850000, 1, 2, "queue depth"});
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = c.Request("GET", "/v1/alerts");
        return r.ok() && !json::parse(r->body, nullptr, false)["evaluated_at"].is_null();
      },
      5s));
  auto alerts = c.Request("GET", "/v1/alerts");
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(json::parse(alerts->body)["rules"].size(), 5u);
  auto summary = c.Request("GET", "/v1/dashboard/summary");
  ASSERT_TRUE(summary.ok());
  const json s = json::parse(summary->body, nullptr, false);
  ASSERT_EQ(s["scaling_events"].size(), 1u) << summary->body;
  EXPECT_EQ(s["scaling_events"][0]["to"], 2);
  EXPECT_EQ(s["workers"][0]["url"], a.url());
  EXPECT_FALSE(s["series"]["workers"].empty());
  auto page = c.Request("GET", "/dashboard");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("dashboard.js"), std::string::npos);
  auto missing = c.Request("GET", "/dashboard/nothing.js");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST(RouterService, ABadAlertConfigIsRefused) {
  RouterOptions o = Options({});
  o.observability.alert_config_path = "/nonexistent/alerts.json";
  EXPECT_FALSE(RouterService::Create(o).ok());
  const std::string path = ::testing::TempDir() + "/dte_alerts_bad.json";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(R"({"no_such_key": 1})", f);
  std::fclose(f);
  o.observability.alert_config_path = path;
  auto bad = RouterService::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  o.observability.alert_config_path.clear();
  o.observability.trace_sample_ratio = 2;
  EXPECT_FALSE(RouterService::Create(o).ok());
}

}  // namespace
}  // namespace dte::router
