// The HTTP transport end to end: a Server on an ephemeral port with test handlers, spoken to
// through the Client and through raw sockets (for what a well-behaved client never sends).
// Also AsyncNotifier's cross-thread wake-ups.

#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <cerrno>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"
#include "http/notifier.h"
#include "http/sse.h"

namespace dte::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Test plumbing

// Lets a test hold handlers until it says so. Handlers park on an AsyncNotifier tied to their
// request's cancel token, so a disconnect also wakes them.
class Gate {
 public:
  // Waits until Open() or cancellation; returns the last wait result.
  asio::awaitable<AsyncNotifier::WaitResult> Pass(const CancellationToken& cancel) {
    AsyncNotifier notifier(cancel);
    {
      std::lock_guard lock(mu_);
      waiters_.push_back(notifier);
    }
    waiting_.fetch_add(1);
    AsyncNotifier::WaitResult result = AsyncNotifier::WaitResult::kNotified;
    while (!open_.load()) {
      result = co_await notifier.Wait(10s);
      if (result != AsyncNotifier::WaitResult::kNotified) break;
    }
    co_return result;
  }
  void Open() {
    open_.store(true);
    std::lock_guard lock(mu_);
    for (const AsyncNotifier& n : waiters_) n.Notify();
  }
  int waiting() const { return waiting_.load(); }

 private:
  std::atomic<bool> open_{false};
  std::atomic<int> waiting_{0};
  std::mutex mu_;
  std::vector<AsyncNotifier> waiters_;
};

// What handlers saw, for the test thread to check.
struct Observed {
  std::promise<AsyncNotifier::WaitResult> wait_result;
  std::promise<bool> write_after_cancel;
  std::atomic<bool> saw_cancel_callback{false};
  std::atomic<int64_t> second_write_ns{0};
};

Router MakeRouter(Gate& gate, Observed& seen) {
  Router r;
  r.Get("/hello", [](Request&, Responder& res) -> asio::awaitable<void> {
    co_await res.Send(200, "text/plain", "hello");
  });
  r.Get("/echo/{id}", [](Request& req, Responder& res) -> asio::awaitable<void> {
    std::string body = std::string(req.PathParam("id")) + "|" +
                       std::string(req.Query("x").value_or("-")) + "|" +
                       std::string(req.Header("x-test"));
    co_await res.Send(200, "text/plain", std::move(body));
  });
  r.Post("/echo", [](Request& req, Responder& res) -> asio::awaitable<void> {
    co_await res.Send(200, "application/octet-stream", req.body);
  });
  r.Get("/v1/sessions/{id}", [](Request&, Responder& res) -> asio::awaitable<void> {
    co_await res.Send(200, "text/plain", "get");
  });
  r.Delete("/v1/sessions/{id}", [](Request&, Responder& res) -> asio::awaitable<void> {
    co_await res.Send(200, "text/plain", "deleted");
  });
  r.Get("/port", [](Request& req, Responder& res) -> asio::awaitable<void> {
    co_await res.Send(200, "text/plain", std::to_string(req.remote_port));
  });
  r.Get("/throw", [](Request&, Responder&) -> asio::awaitable<void> {
    throw std::runtime_error("boom");
    co_return;
  });
  r.Get("/nocontent", [](Request&, Responder& res) -> asio::awaitable<void> {
    Headers extra;
    extra.Add("X-Evil", "a\r\nSet-Cookie: stolen=1");
    extra.Add("X-Fine", "ok");
    co_await res.Send(204, "text/plain", "ignored body", std::move(extra));
  });
  r.Get("/silent", [](Request&, Responder&) -> asio::awaitable<void> { co_return; });
  // Streams "first", waits for the gate, streams "second".
  r.Get("/stream", [&gate, &seen](Request& req, Responder& res) -> asio::awaitable<void> {
    if (!co_await res.StartStream(200, "text/plain")) co_return;
    if (!co_await res.Write("first\n")) co_return;
    co_await gate.Pass(req.cancel);
    seen.second_write_ns = Clock::now().time_since_epoch().count();
    if (!co_await res.Write("second\n")) co_return;
    co_await res.Finish();
  });
  // Streams "first", then waits for the gate or a disconnect and reports what happened.
  r.Get("/stream-cancel", [&gate, &seen](Request& req, Responder& res) -> asio::awaitable<void> {
    req.cancel.OnCancel([&seen] { seen.saw_cancel_callback = true; });
    co_await res.StartStream(200, "text/plain");
    co_await res.Write("first\n");
    AsyncNotifier::WaitResult r = co_await gate.Pass(req.cancel);
    seen.wait_result.set_value(r);
    seen.write_after_cancel.set_value(co_await res.Write("after\n"));
  });
  // A long non-streaming request: answers once the gate opens (or reports a disconnect).
  r.Get("/wait", [&gate, &seen](Request& req, Responder& res) -> asio::awaitable<void> {
    AsyncNotifier::WaitResult r = co_await gate.Pass(req.cancel);
    if (r == AsyncNotifier::WaitResult::kCancelled) {
      seen.wait_result.set_value(r);
      co_return;
    }
    co_await res.Send(200, "text/plain", "done");
  });
  r.Get("/sse", [](Request&, Responder& res) -> asio::awaitable<void> {
    SseWriter sse(res);
    co_await sse.Start();
    co_await sse.Event("{\"n\":1}");
    co_await sse.Comment();
    co_await sse.Event("line1\nline2", "multi");
    co_await sse.Event("[DONE]");
    co_await sse.Finish();
  });
  return r;
}

ErrorBody JsonError(int status, std::string_view message, std::string_view code) {
  return {"application/json", "{\"status\":" + std::to_string(status) + ",\"code\":\"" +
                                  std::string(code) + "\",\"message\":\"" + std::string(message) +
                                  "\"}"};
}

struct RawResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

// A blocking POSIX socket with a receive timeout, for requests no real client would send.
class RawConn {
 public:
  explicit RawConn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    SetTimeout(5s);
  }
  ~RawConn() { Close(); }

  bool connected() const { return connected_; }
  void SetTimeout(std::chrono::milliseconds t) {
    timeval tv{static_cast<time_t>(t.count() / 1000),
               static_cast<suseconds_t>(t.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // True when the server closes the connection (EOF or reset) before `timeout`, with any
  // bytes that arrive first discarded.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    SetTimeout(timeout);
    char tmp[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }
  std::optional<RawResponse> ReadResponse() {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    RawResponse res;
    std::string head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    size_t eol = head.find("\r\n");
    std::string status_line = head.substr(0, eol);
    if (status_line.size() < 12) return std::nullopt;
    res.status = std::stoi(status_line.substr(9, 3));
    for (size_t pos = eol + 2; pos < head.size();) {
      size_t next = head.find("\r\n", pos);
      std::string line = head.substr(pos, next - pos);
      size_t colon = line.find(':');
      size_t vstart = line.find_first_not_of(' ', colon + 1);
      res.headers.Add(line.substr(0, colon),
                      vstart == std::string::npos ? "" : line.substr(vstart));
      pos = next + 2;
    }
    if (res.status < 200 || res.status == 204 || res.status == 304) return res;  // no body
    if (EqualsIgnoreCase(res.headers.GetOr("Transfer-Encoding"), "chunked")) {
      for (;;) {
        size_t line_end;
        while ((line_end = buf_.find("\r\n")) == std::string::npos) {
          if (!Fill()) return std::nullopt;
        }
        size_t size = std::stoul(buf_.substr(0, line_end), nullptr, 16);
        while (buf_.size() < line_end + 2 + size + 2) {
          if (!Fill()) return std::nullopt;
        }
        res.body += buf_.substr(line_end + 2, size);
        buf_.erase(0, line_end + 2 + size + 2);
        if (size == 0) break;
      }
    } else if (auto len = res.headers.Get("Content-Length")) {
      size_t n = std::stoul(std::string(*len));
      while (buf_.size() < n) {
        if (!Fill()) return std::nullopt;
      }
      res.body = buf_.substr(0, n);
      buf_.erase(0, n);
    } else {
      while (Fill()) {
      }
      res.body = std::move(buf_);
      buf_.clear();
    }
    return res;
  }
  // Reads until `text` has arrived (kept in the buffer); false on EOF or timeout.
  bool ReadUntil(std::string_view text) {
    while (buf_.find(text) == std::string::npos) {
      if (!Fill()) return false;
    }
    return true;
  }

 private:
  bool Fill() {
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// An io_context on its own thread for the Client (the server has its own).
class ClientLoop {
 public:
  ClientLoop() : work_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {}
  ~ClientLoop() {
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  asio::io_context& ioc() { return ioc_; }

  template <class Fn>
  auto Run(Fn fn) {
    return asio::co_spawn(ioc_, std::move(fn), asio::use_future).get();
  }
  Result<ClientResponse> Do(Client& c, std::string method, std::string target,
                            std::string body = {}, Headers headers = {}) {
    auto r = Run([&]() -> asio::awaitable<std::optional<Result<ClientResponse>>> {
      co_return co_await c.Request(method, target, headers, body);
    });
    return std::move(*r);
  }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(DefaultOptions()); }
  void TearDown() override {
    gate_.Open();
    if (server_) server_->Stop();
  }

  ServerOptions DefaultOptions() {
    ServerOptions o;
    o.body_limit = 1024;
    o.header_limit = 2048;
    o.read_timeout = 500ms;
    o.idle_timeout = 1000ms;
    o.io_threads = 2;
    o.error_body = JsonError;
    o.request_log = [this](const RequestLogEntry& e) {
      std::lock_guard lock(log_mu_);
      log_.push_back(std::string(e.method) + " " + std::string(e.path) + " " +
                     std::to_string(e.status));
    };
    return o;
  }
  void StartServer(ServerOptions options) {
    if (server_) server_->Stop();
    server_ = std::make_unique<Server>(std::move(options), MakeRouter(gate_, seen_));
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }
  std::unique_ptr<Client> MakeClient(ClientOptions options = {}) {
    return std::make_unique<Client>(loop_.ioc().get_executor(), "127.0.0.1", server_->port(),
                                    options);
  }
  // True once a request-log line containing `line` ("METHOD PATH STATUS") has been written.
  bool Logged(const std::string& line) {
    return Eventually([&] {
      std::lock_guard lock(log_mu_);
      return std::any_of(log_.begin(), log_.end(),
                         [&](const std::string& l) { return l.find(line) != std::string::npos; });
    });
  }

  Gate gate_;
  Observed seen_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
  ClientLoop loop_;
  std::unique_ptr<Server> server_;
};

// ---------------------------------------------------------------------------------------------
// Routing and keep-alive

TEST_F(ServerTest, RoutesWithParamsQueryAndHeaders) {
  auto client = MakeClient();
  auto r = loop_.Do(*client, "GET", "/echo/a%2Fb?x=1+2", {}, Headers{{"X-Test", "yes"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "a/b|1 2|yes");
  EXPECT_EQ(r->headers.GetOr("content-type"), "text/plain");

  r = loop_.Do(*client, "POST", "/echo", "payload");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "payload");
  EXPECT_TRUE(Logged("GET /echo/a%2Fb 200"));
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedUseTheOwnersErrorBody) {
  auto client = MakeClient();
  auto r = loop_.Do(*client, "GET", "/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->headers.GetOr("Content-Type"), "application/json");
  EXPECT_NE(r->body.find("\"code\":\"not_found\""), std::string::npos) << r->body;

  r = loop_.Do(*client, "POST", "/v1/sessions/abc", "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->headers.GetOr("Allow"), "GET, DELETE");
  EXPECT_NE(r->body.find("method_not_allowed"), std::string::npos);

  r = loop_.Do(*client, "DELETE", "/v1/sessions/abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "deleted");
  // Error responses keep the connection: all three went over one.
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(ServerTest, HandlerFailuresBecome500) {
  auto client = MakeClient();
  auto r = loop_.Do(*client, "GET", "/throw");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("internal_error"), std::string::npos);
  r = loop_.Do(*client, "GET", "/silent");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  r = loop_.Do(*client, "GET", "/hello");  // the connection survived both
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(client->connections_opened(), 1u);
}

TEST_F(ServerTest, NoContentDropsBodyAndHeadersWithLineBreaks) {
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("GET /nocontent HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->headers.GetOr("X-Fine"), "ok");
  EXPECT_FALSE(r->headers.Has("X-Evil"));
  EXPECT_FALSE(r->headers.Has("Set-Cookie"));
  auto next = c.ReadResponse();  // the 204 carried no body to confuse the framing
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "hello");
}

TEST_F(ServerTest, ClientReusesKeepAliveConnection) {
  auto client = MakeClient();
  auto a = loop_.Do(*client, "GET", "/port");
  auto b = loop_.Do(*client, "GET", "/port");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->body, b->body);  // same client port: same connection
  EXPECT_EQ(client->connections_opened(), 1u);
  EXPECT_EQ(client->idle_connections(), 1u);
}

TEST_F(ServerTest, ClientRetriesWhenServerClosedIdleConnection) {
  auto client = MakeClient();
  ASSERT_TRUE(loop_.Do(*client, "GET", "/hello").ok());
  std::this_thread::sleep_for(1300ms);  // past the server's idle timeout (1 s)
  auto r = loop_.Do(*client, "GET", "/hello");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(client->connections_opened(), 2u);
}

TEST_F(ServerTest, ClientReportsConnectFailure) {
  uint16_t port = server_->port();
  server_->Stop();
  Client client(loop_.ioc().get_executor(), "127.0.0.1", port);
  auto r = loop_.Do(client, "GET", "/hello");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Send("GET /echo/1?x=a HTTP/1.1\r\nHost: t\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
             "GET /echo/2 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r1 = c.ReadResponse();
  auto r2 = c.ReadResponse();
  auto r3 = c.ReadResponse();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(r1->body, "1|a|");
  EXPECT_EQ(r2->body, "abc");
  EXPECT_EQ(r3->body, "2|-|");
}

TEST_F(ServerTest, Http10GetsResponseThenClose) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.0\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, AbsoluteFormTargetIsAccepted) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("GET http://example.com/echo/z?x=q HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "z|q|");
}

// ---------------------------------------------------------------------------------------------
// Limits, malformed input, timeouts

TEST_F(ServerTest, BodyOverLimitByContentLengthGets413BeforeBodyIsSent) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("1024"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("body_too_large"), std::string::npos);
  EXPECT_EQ(r->headers.GetOr("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed(3s));
}

TEST_F(ServerTest, ChunkedBodyOverLimitGets413) {
  RawConn c(server_->port());
  std::string chunk(1500, 'x');
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5dc\r\n" +
             chunk + "\r\n0\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(ServerTest, ClientSeesThe413EvenWhileSendingABody) {
  auto client = MakeClient();
  auto r = loop_.Do(*client, "POST", "/echo", std::string(200 * 1024, 'y'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  // A body within the limit still works afterwards.
  r = loop_.Do(*client, "POST", "/echo", std::string(1024, 'z'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 1024u);
}

TEST_F(ServerTest, LyingShortContentLengthLeavesGarbageThatGets400) {
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"
             "helloTHIS IS NOT HTTP\r\n\r\n"));
  auto r1 = c.ReadResponse();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "hello");
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 400);
  EXPECT_TRUE(c.WaitClosed(3s));
}

TEST_F(ServerTest, LyingLongContentLengthTimesOutWith408) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten.."));
  auto start = Clock::now();
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_NE(r->body.find("request_timeout"), std::string::npos);
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST_F(ServerTest, HeaderOverLimitGets431) {
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_NE(r->body.find("headers_too_large"), std::string::npos);
}

TEST_F(ServerTest, MalformedRequestLineGets400) {
  for (std::string bad : {"THIS IS NOT HTTP\r\n\r\n", "GET /hello HTTP/7.0\r\n\r\n",
                          "GET /hello HTTP/1.1\r\nBad Header Line\r\n\r\n",
                          "GET hello HTTP/1.1\r\nHost: t\r\n\r\n"}) {
    RawConn c(server_->port());
    ASSERT_TRUE(c.Send(bad));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_NE(r->body.find("bad_request"), std::string::npos);
  }
  EXPECT_TRUE(Logged(" 400"));
}

TEST_F(ServerTest, SlowRequestGets408) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));  // never finished
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.WaitClosed(3s));
}

TEST_F(ServerTest, IdleConnectionIsClosedSilently) {
  RawConn c(server_->port());
  ASSERT_TRUE(c.connected());
  auto start = Clock::now();
  EXPECT_TRUE(c.WaitClosed(5s));
  EXPECT_GE(Clock::now() - start, 800ms);
}

TEST_F(ServerTest, ExpectContinueIsHonoured) {
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
             "Content-Length: 5\r\n\r\n"));
  auto interim = c.ReadResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.Send("hello"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

// ---------------------------------------------------------------------------------------------
// Streaming and disconnects

TEST_F(ServerTest, StreamedChunksArriveIncrementally) {
  auto client = MakeClient(ClientOptions{.io_timeout = 5s});
  std::string received;
  int64_t first_chunk_ns = 0;
  auto r = loop_.Run([&]() -> asio::awaitable<std::optional<Result<ClientResponse>>> {
    co_return co_await client->Stream(
        "GET", "/stream", {}, {}, [&](std::string_view chunk) -> asio::awaitable<bool> {
          received += chunk;
          if (first_chunk_ns == 0) {
            first_chunk_ns = Clock::now().time_since_epoch().count();
            EXPECT_EQ(received, "first\n");
            gate_.Open();  // only now may the handler write its second chunk
          }
          co_return true;
        });
  });
  ASSERT_TRUE(r->ok()) << r->status().ToString();
  EXPECT_EQ((*r)->status, 200);
  EXPECT_EQ((*r)->headers.GetOr("Transfer-Encoding"), "chunked");
  EXPECT_EQ(received, "first\nsecond\n");
  EXPECT_LT(first_chunk_ns, seen_.second_write_ns.load());
  // The stream ended cleanly, so the connection went back to the pool.
  EXPECT_EQ(client->idle_connections(), 1u);
}

TEST_F(ServerTest, SseWriterProducesEventStream) {
  auto client = MakeClient();
  auto r = loop_.Do(*client, "GET", "/sse");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers.GetOr("Content-Type"), "text/event-stream");
  EXPECT_EQ(r->headers.GetOr("Cache-Control"), "no-cache");
  EXPECT_EQ(r->body,
            "data: {\"n\":1}\n\n: keep-alive\n\nevent: multi\ndata: line1\ndata: line2\n\n"
            "data: [DONE]\n\n");
}

TEST_F(ServerTest, DisconnectMidStreamCancelsRequestAndFailsWrite) {
  auto wait_result = seen_.wait_result.get_future();
  auto write_result = seen_.write_after_cancel.get_future();
  {
    RawConn c(server_->port());
    ASSERT_TRUE(c.Send("GET /stream-cancel HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(c.ReadUntil("first\n"));
  }  // closes the socket while the handler waits (not writing)
  ASSERT_EQ(wait_result.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(wait_result.get(), AsyncNotifier::WaitResult::kCancelled);
  ASSERT_EQ(write_result.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(write_result.get());
  EXPECT_TRUE(seen_.saw_cancel_callback.load());
  EXPECT_TRUE(Eventually([&] { return server_->in_flight_requests() == 0; }));
}

TEST_F(ServerTest, DisconnectDuringLongNonStreamingRequestCancelsIt) {
  auto wait_result = seen_.wait_result.get_future();
  {
    RawConn c(server_->port());
    ASSERT_TRUE(c.Send("GET /wait HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(Eventually([&] { return gate_.waiting() == 1; }));
  }
  auto start = Clock::now();
  ASSERT_EQ(wait_result.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(wait_result.get(), AsyncNotifier::WaitResult::kCancelled);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_TRUE(Eventually([&] { return server_->open_connections() == 0; }));
}

TEST_F(ServerTest, StreamConsumerCanStopEarly) {
  auto client = MakeClient();
  auto wait_result = seen_.wait_result.get_future();
  auto r = loop_.Run([&]() -> asio::awaitable<std::optional<Result<ClientResponse>>> {
    co_return co_await client->Stream(
        "GET", "/stream-cancel", {}, {},
        [&](std::string_view) -> asio::awaitable<bool> { co_return false; });
  });
  ASSERT_TRUE(r->ok());
  EXPECT_FALSE((*r)->complete);
  EXPECT_EQ(client->idle_connections(), 0u);  // not pooled: the response was not read out
  ASSERT_EQ(wait_result.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(wait_result.get(), AsyncNotifier::WaitResult::kCancelled);
}

// ---------------------------------------------------------------------------------------------
// Drain and stop

TEST_F(ServerTest, DrainFinishesInFlightAndRefusesNewWork) {
  RawConn idle(server_->port());
  ASSERT_TRUE(idle.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(idle.ReadResponse());

  RawConn busy(server_->port());
  ASSERT_TRUE(busy.Send("GET /wait HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return gate_.waiting() == 1; }));
  EXPECT_EQ(server_->in_flight_requests(), 1u);

  server_->BeginDrain();
  EXPECT_TRUE(server_->draining());

  // A new request on an existing keep-alive connection: 503 and close.
  ASSERT_TRUE(idle.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto refused = idle.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->headers.GetOr("Connection"), "close");
  EXPECT_NE(refused->body.find("draining"), std::string::npos);
  EXPECT_TRUE(idle.WaitClosed(3s));

  // New connections are no longer accepted.
  EXPECT_TRUE(Eventually([&] { return !RawConn(server_->port()).connected(); }));

  EXPECT_FALSE(server_->WaitDrained(100ms));
  gate_.Open();
  auto done = busy.ReadResponse();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200);
  EXPECT_EQ(done->body, "done");
  EXPECT_EQ(done->headers.GetOr("Connection"), "close");
  EXPECT_TRUE(server_->WaitDrained(5s));
  EXPECT_TRUE(busy.WaitClosed(3s));
  server_->Stop();
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(ServerTest, StopCancelsWaitingHandlers) {
  auto wait_result = seen_.wait_result.get_future();
  RawConn busy(server_->port());
  ASSERT_TRUE(busy.Send("GET /wait HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return gate_.waiting() == 1; }));
  auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, 1s);  // well inside stop_grace: the handler was cancelled
  ASSERT_EQ(wait_result.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(wait_result.get(), AsyncNotifier::WaitResult::kCancelled);
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_TRUE(busy.WaitClosed(2s));
}

TEST(ServerStartTest, ReportsBindFailure) {
  Server first(ServerOptions{}, Router{});
  ASSERT_TRUE(first.Start().ok());
  ServerOptions o;
  o.port = first.port();
  Server second(o, Router{});
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
}

// ---------------------------------------------------------------------------------------------
// AsyncNotifier

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() : work_(ioc_.get_executor()) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~NotifierTest() override {
    work_.reset();
    for (auto& t : threads_) t.join();
  }
  // Runs `fn` on a strand of a two-thread io_context (as handlers run) and waits for it.
  template <class Fn>
  auto RunOnStrand(Fn fn) {
    return asio::co_spawn(asio::make_strand(ioc_), std::move(fn), asio::use_future).get();
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

TEST_F(NotifierTest, NotifyBeforeWaitIsNotLost) {
  AsyncNotifier n;
  n.Notify();
  n.Notify();  // coalesces
  auto results = RunOnStrand([&]() -> asio::awaitable<std::vector<AsyncNotifier::WaitResult>> {
    std::vector<AsyncNotifier::WaitResult> out;
    out.push_back(co_await n.Wait(1s));
    out.push_back(co_await n.Wait(50ms));
    co_return out;
  });
  EXPECT_EQ(results, (std::vector<AsyncNotifier::WaitResult>{AsyncNotifier::WaitResult::kNotified,
                                                             AsyncNotifier::WaitResult::kTimeout}));
}

TEST_F(NotifierTest, CancellationWakesAndSticks) {
  CancellationToken token;
  AsyncNotifier n(token);
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    token.Cancel();
  });
  auto start = Clock::now();
  auto results = RunOnStrand([&]() -> asio::awaitable<std::vector<AsyncNotifier::WaitResult>> {
    std::vector<AsyncNotifier::WaitResult> out;
    out.push_back(co_await n.Wait(10s));
    n.Notify();
    out.push_back(co_await n.Wait());  // cancellation wins over a pending notification
    co_return out;
  });
  canceller.join();
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(results,
            (std::vector<AsyncNotifier::WaitResult>{AsyncNotifier::WaitResult::kCancelled,
                                                    AsyncNotifier::WaitResult::kCancelled}));
}

// A producer thread publishes a counter and notifies; the consumer drains and waits. A lost
// wake-up would leave the consumer asleep with unseen values: its 5 s wait would time out.
TEST_F(NotifierTest, StressNoLostWakeups) {
  constexpr int kProducers = 3;
  constexpr int kPerProducer = 20000;
  AsyncNotifier n;
  std::atomic<int> produced{0};
  std::atomic<bool> start{false};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      while (!start.load()) std::this_thread::yield();
      for (int i = 0; i < kPerProducer; ++i) {
        produced.fetch_add(1);
        n.Notify();
        if ((i + p) % 64 == 0) std::this_thread::yield();
      }
    });
  }
  auto [timeouts, wakeups] = RunOnStrand([&]() -> asio::awaitable<std::pair<int, int>> {
    int timeouts = 0, wakeups = 0;
    start = true;
    while (produced.load() < kProducers * kPerProducer) {
      auto r = co_await n.Wait(5s);
      if (r == AsyncNotifier::WaitResult::kTimeout) ++timeouts;
      if (r == AsyncNotifier::WaitResult::kTimeout && timeouts > 1) break;
      ++wakeups;
    }
    co_return std::make_pair(timeouts, wakeups);
  });
  for (auto& t : producers) t.join();
  EXPECT_EQ(timeouts, 0);
  EXPECT_GT(wakeups, 0);
}

// Ping-pong: every round the producer notifies exactly once and waits for the consumer to
// acknowledge, so each Notify races the consumer's next Wait.
TEST_F(NotifierTest, PingPongEveryNotifyWakes) {
  constexpr int kRounds = 20000;
  AsyncNotifier n;
  std::atomic<int> value{0};
  std::atomic<int> ack{0};
  std::thread producer([&] {
    for (int i = 1; i <= kRounds; ++i) {
      value.store(i);
      n.Notify();
      auto deadline = Clock::now() + 5s;
      while (ack.load() < i && Clock::now() < deadline) std::this_thread::yield();
      if (ack.load() < i) return;  // the consumer missed a wake-up; it will time out too
    }
  });
  int timeouts = RunOnStrand([&]() -> asio::awaitable<int> {
    int timeouts = 0;
    while (ack.load() < kRounds) {
      int v = value.load();
      if (v > ack.load()) {
        ack.store(v);
        continue;
      }
      if (co_await n.Wait(5s) == AsyncNotifier::WaitResult::kTimeout) {
        ++timeouts;
        break;
      }
    }
    co_return timeouts;
  });
  producer.join();
  EXPECT_EQ(timeouts, 0);
  EXPECT_EQ(ack.load(), kRounds);
}

}  // namespace
}  // namespace dte::http
