// One connection's session: read a request, route it, run its handler while watching the
// socket for a disconnect, write the response, repeat while keep-alive allows. Everything of
// one connection runs on its strand, so the members below need no lock.
//
// Timeouts use one deadline per connection, enforced by a watchdog coroutine that cancels
// the socket's pending operations when it passes (the idle wait, the request read, or a
// write). The session learns of it from `timed_out_`.

// GCC 12 flags Asio's coroutine-frame allocator (operator new over aligned_alloc, released
// with free) as mismatched in ServeOne; it is not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <string>

#include "base/log.h"
#include "http/server_state.h"

namespace dte::http::internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = SteadyClock;
using boost::system::error_code;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

constexpr size_t kReadChunk = 16 * 1024;
// While a handler runs, bytes of pipelined requests are buffered up to this much; beyond it
// the session stops reading (and so stops noticing a disconnect) until the handler is done.
constexpr size_t kMaxPipelinedBytes = 1u << 20;
// After an error response that leaves request bytes unread, keep reading (and discarding)
// for a while, so the client receives the response instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerMaxBytes = 64u << 20;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

// The path-and-query of a request-target; absolute-form ("http://host/p?q") is reduced to
// "/p?q" (RFC 9112 3.2.2). Other forms come back unchanged and fail the '/' check later.
std::string_view OriginForm(std::string_view target) {
  size_t scheme_end = target.find("://");
  if (target.empty() || target.front() == '/' || scheme_end == std::string_view::npos ||
      target.find_first_of("/?") < scheme_end) {
    return target;
  }
  size_t path_start = target.find_first_of("/?", scheme_end + 3);
  if (path_start == std::string_view::npos) return "/";
  return target.substr(path_start);
}

std::string Milliseconds(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

void LogCoroutineException(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    LogError(std::string("http: connection coroutine failed: ") + ex.what());
  } catch (...) {
    LogError("http: connection coroutine failed");
  }
}

}  // namespace

class ConnectionResponder;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerState& state, tcp::socket socket, uint64_t id)
      : state_(state),
        socket_(std::move(socket)),
        deadline_timer_(socket_.get_executor()),
        id_(id) {
    error_code ec;
    tcp::endpoint remote = socket_.remote_endpoint(ec);
    if (!ec) {
      remote_address_ = remote.address().to_string();
      remote_port_ = remote.port();
    }
    deadline_timer_.expires_at(Clock::time_point::max());
  }

  ~Connection() {
    {
      std::lock_guard lock(state_.mu);
      state_.connections.erase(id_);
      state_.open_connections.fetch_sub(1);
    }
    state_.cv.notify_all();
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

  static asio::awaitable<void> Run(std::shared_ptr<Connection> self) {
    asio::co_spawn(self->executor(), Watchdog(self), LogCoroutineException);
    co_await self->Serve();
  }

  // Closes the socket; pending operations complete with an error. On the strand only.
  void Close() {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    deadline_timer_.cancel();
  }

  // True once nothing more can be written for the current request.
  bool gone() const { return closed_ || broken_ || peer_gone_; }
  bool draining() const { return state_.draining.load(); }

  // Writes `buffers` under the write timeout. A failure marks the connection broken and
  // cancels the request in flight.
  template <class Buffers>
  asio::awaitable<bool> WriteBuffers(const Buffers& buffers) {
    if (gone()) co_return false;
    SetDeadline(state_.options.write_timeout);
    auto [ec, n] = co_await asio::async_write(socket_, buffers, kUseTuple);
    ClearDeadline();
    co_return CheckWrite(ec);
  }
  template <class Message>
  asio::awaitable<bool> WriteMessage(Message& message) {
    if (gone()) co_return false;
    SetDeadline(state_.options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(socket_, message, kUseTuple);
    ClearDeadline();
    co_return CheckWrite(ec);
  }
  template <class Serializer>
  asio::awaitable<bool> WriteHeader(Serializer& serializer) {
    if (gone()) co_return false;
    SetDeadline(state_.options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write_header(socket_, serializer, kUseTuple);
    ClearDeadline();
    co_return CheckWrite(ec);
  }

  ServerState& state() { return state_; }

 private:
  using Parser = bhttp::request_parser<bhttp::string_body>;

  asio::awaitable<void> Serve();
  asio::awaitable<bool> ServeOne();
  asio::awaitable<void> FailRead(error_code ec, const Request* req);
  asio::awaitable<void> RunHandler(const Handler& handler, Request& req, ConnectionResponder& res);
  asio::awaitable<void> WatchForDisconnect(CancellationToken token);
  asio::awaitable<void> LingeringClose();
  static asio::awaitable<void> Watchdog(std::shared_ptr<Connection> self);

  bool CheckWrite(error_code ec) {
    if (!ec) return true;
    broken_ = true;
    if (current_cancel_) current_cancel_->Cancel();
    return false;
  }

  // The deadline only moves the timer when it comes earlier than the timer's expiry; a
  // later or cleared deadline is noticed when the timer wakes (fewer timer operations per
  // streamed chunk).
  void SetDeadline(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    deadline_ = Clock::now() + timeout;
    if (deadline_ < deadline_timer_.expiry()) deadline_timer_.expires_at(deadline_);
  }
  void ClearDeadline() { deadline_ = Clock::time_point::max(); }

  ServerState& state_;
  tcp::socket socket_;
  asio::steady_timer deadline_timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  const uint64_t id_;
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  beast::flat_buffer buffer_;
  bool timed_out_ = false;  // the deadline passed and the socket's operations were cancelled
  bool closed_ = false;     // Close() was called
  bool broken_ = false;     // a write failed: the response cannot be completed
  bool peer_gone_ = false;  // the watcher saw the client close or reset the connection
  CancellationToken* current_cancel_ = nullptr;  // the request in its handler, if any
};

// The Responder of one request on a Connection.
class ConnectionResponder final : public Responder {
 public:
  ConnectionResponder(Connection& conn, int version, bool keep_alive)
      : conn_(conn), version_(version), keep_alive_(keep_alive) {}

  bool started() const override { return phase_ != Phase::kNone; }
  bool streaming() const { return phase_ == Phase::kStreaming; }
  int status() const { return status_; }
  uint64_t body_bytes() const { return body_bytes_; }
  // Whether the response (as sent) lets the connection serve another request.
  bool keep_alive() const { return keep_alive_; }

  asio::awaitable<bool> SendError(int status, std::string_view message, std::string_view code,
                                  Headers extra_headers = {}) {
    ErrorBody err = conn_.state().MakeErrorBody(status, message, code);
    // Awaited here: Send's awaitable refers to err.content_type.
    co_return co_await Send(status, err.content_type, std::move(err.body),
                            std::move(extra_headers));
  }

 protected:
  asio::awaitable<bool> DoSend(int status, std::string_view content_type, std::string body,
                               Headers extra_headers) override {
    if (!BeginResponse(status, "Send")) co_return false;
    phase_ = Phase::kDone;
    bhttp::response<bhttp::string_body> res(static_cast<bhttp::status>(status), version_);
    Fill(res, content_type, extra_headers);
    // 1xx, 204 and 304 responses have no body (Beast's prepare_payload would throw).
    if ((status >= 100 && status < 200) || status == 204 || status == 304) body.clear();
    body_bytes_ = body.size();
    res.body() = std::move(body);
    res.prepare_payload();
    co_return co_await conn_.WriteMessage(res);
  }

  asio::awaitable<bool> DoStartStream(int status, std::string_view content_type,
                                      Headers extra_headers) override {
    if (!BeginResponse(status, "StartStream")) co_return false;
    phase_ = Phase::kStreaming;
    chunked_ = version_ >= 11;
    if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the body ends when the connection does
    bhttp::response<bhttp::empty_body> res(static_cast<bhttp::status>(status), version_);
    Fill(res, content_type, extra_headers);
    if (chunked_) res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer(res);
    co_return co_await conn_.WriteHeader(serializer);
  }

  asio::awaitable<bool> DoWrite(std::string_view chunk) override {
    if (phase_ != Phase::kStreaming || conn_.gone()) co_return false;
    if (chunk.empty()) co_return true;  // an empty chunk would end the stream
    body_bytes_ += chunk.size();
    if (!chunked_) co_return co_await conn_.WriteBuffers(asio::buffer(chunk.data(), chunk.size()));
    char size_line[24];
    int len = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
    std::array<asio::const_buffer, 3> buffers = {asio::buffer(size_line, len),
                                                 asio::buffer(chunk.data(), chunk.size()),
                                                 asio::buffer("\r\n", 2)};
    co_return co_await conn_.WriteBuffers(buffers);
  }

  asio::awaitable<bool> DoFinish() override {
    if (phase_ != Phase::kStreaming) co_return phase_ == Phase::kDone && !conn_.gone();
    phase_ = Phase::kDone;
    if (!chunked_) co_return !conn_.gone();
    co_return co_await conn_.WriteBuffers(asio::buffer("0\r\n\r\n", 5));
  }

 private:
  enum class Phase { kNone, kStreaming, kDone };

  bool BeginResponse(int status, const char* what) {
    if (phase_ != Phase::kNone) {
      LogWarning(std::string("http: Responder::") + what + " after the response was started");
      return false;
    }
    if (conn_.gone()) return false;
    status_ = status;
    if (conn_.draining()) keep_alive_ = false;
    return true;
  }

  template <class Message>
  void Fill(Message& res, std::string_view content_type, const Headers& extra_headers) {
    if (!content_type.empty()) res.set(bhttp::field::content_type, content_type);
    for (const auto& [name, value] : extra_headers) {
      // A CR or LF would let a value smuggle in headers of its own (response splitting).
      if (name.find_first_of("\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        LogWarning("http: dropped a response header containing CR/LF: " + name);
        continue;
      }
      res.insert(name, value);
    }
    res.keep_alive(keep_alive_);
  }

  Connection& conn_;
  const int version_;
  bool keep_alive_;
  bool chunked_ = false;
  Phase phase_ = Phase::kNone;
  int status_ = 0;
  uint64_t body_bytes_ = 0;
};

asio::awaitable<void> Connection::Serve() {
  while (!closed_) {
    if (buffer_.size() == 0) {
      // Between requests: wait for the next one's first byte under the idle timeout.
      SetDeadline(state_.options.idle_timeout);
      auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(kReadChunk), kUseTuple);
      buffer_.commit(n);
      if (ec && n == 0) break;  // closed, reset, idle timeout or Close()
    }
    if (!co_await ServeOne()) break;
  }
  Close();
}

asio::awaitable<bool> Connection::ServeOne() {
  Parser parser;
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(state_.options.header_limit, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(state_.options.body_limit);
  SetDeadline(state_.options.read_timeout);  // covers header and body
  {
    auto [ec, n] = co_await bhttp::async_read_header(socket_, buffer_, parser, kUseTuple);
    if (ec) {
      co_await FailRead(ec, nullptr);
      co_return false;
    }
  }

  auto& msg = parser.get();
  Request req;
  req.method = std::string(ToStd(msg.method_string()));
  req.target = std::string(ToStd(msg.target()));
  std::string_view target = OriginForm(req.target);
  size_t qmark = target.find('?');
  req.path = std::string(target.substr(0, qmark));
  if (qmark != std::string_view::npos) req.query = ParseQuery(target.substr(qmark + 1));
  for (const auto& field : msg) {
    req.headers.Add(std::string(ToStd(field.name_string())), std::string(ToStd(field.value())));
  }
  req.version = static_cast<int>(msg.version());
  req.remote_address = remote_address_;
  req.remote_port = remote_port_;
  req.received_at = Clock::now();

  state_.RequestStarted();
  struct InFlight {
    ServerState& state;
    ~InFlight() { state.RequestDone(); }
  } in_flight{state_};

  ConnectionResponder responder(*this, req.version, msg.keep_alive() && !draining());
  auto log = [&] {
    state_.LogRequest({req.method, req.path, responder.status(), responder.body_bytes(),
                       SecondsSince(req.received_at), remote_address_, req.cancelled()});
  };

  if (draining()) {
    // The body (if any) stays unread: answer and close.
    co_await responder.SendError(503, "server is shutting down", kErrDraining);
    log();
    co_await LingeringClose();
    co_return false;
  }
  if (req.path.empty() || req.path.front() != '/') {
    co_await FailRead(bhttp::error::bad_target, &req);
    co_return false;
  }
  if (req.version != 10 && req.version != 11) {  // Beast parses any "HTTP/d.d"
    co_await FailRead(bhttp::error::bad_version, &req);
    co_return false;
  }

  if (!parser.is_done()) {
    if (EqualsIgnoreCase(req.Header("Expect"), "100-continue") && req.version >= 11) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [ec, n] = co_await asio::async_write(
          socket_, asio::buffer(kContinue.data(), kContinue.size()), kUseTuple);
      if (ec) co_return false;
    }
    auto [ec, n] = co_await bhttp::async_read(socket_, buffer_, parser, kUseTuple);
    if (ec) {
      co_await FailRead(ec, &req);
      co_return false;
    }
  }
  ClearDeadline();
  req.body = std::move(msg.body());

  Router::Match match = state_.router.Find(req.method, req.path);
  switch (match.kind) {
    case Router::Match::Kind::kNotFound:
      co_await responder.SendError(404, "no route for " + req.method + " " + req.path,
                                   kErrNotFound);
      break;
    case Router::Match::Kind::kMethodNotAllowed: {
      // Built outside the co_await: GCC 12 mishandles string-literal temporaries there.
      Headers allow;
      allow.Add("Allow", match.allow);
      std::string message = "method " + req.method + " is not allowed for " + req.path +
                            " (allowed: " + match.allow + ")";
      co_await responder.SendError(405, message, kErrMethodNotAllowed, std::move(allow));
      break;
    }
    case Router::Match::Kind::kFound:
      req.path_params = std::move(match.params);
      co_await RunHandler(*match.handler, req, responder);
      break;
  }
  log();
  co_return responder.keep_alive() && !gone();
}

asio::awaitable<void> Connection::FailRead(error_code ec, const Request* req) {
  int status = 0;
  std::string message;
  std::string_view code;
  if (timed_out_) {
    status = 408;
    message = "request not received within " + Milliseconds(state_.options.read_timeout);
    code = kErrRequestTimeout;
  } else if (ec == bhttp::error::header_limit) {
    status = 431;
    message = "request header exceeds the limit of " + std::to_string(state_.options.header_limit) +
              " bytes";
    code = kErrHeadersTooLarge;
  } else if (ec == bhttp::error::body_limit) {
    status = 413;
    message =
        "request body exceeds the limit of " + std::to_string(state_.options.body_limit) + " bytes";
    code = kErrBodyTooLarge;
  } else if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
             ec == asio::error::eof || ec == asio::error::connection_reset ||
             ec == asio::error::operation_aborted || closed_) {
    co_return;  // the client left (or we are stopping): nobody to answer
  } else {
    status = 400;
    message = "malformed request: " + ec.message();
    code = kErrBadRequest;
  }
  ConnectionResponder responder(*this, req ? req->version : 11, /*keep_alive=*/false);
  co_await responder.SendError(status, message, code);
  state_.LogRequest({req ? std::string_view(req->method) : std::string_view(),
                     req ? std::string_view(req->path) : std::string_view(), status,
                     responder.body_bytes(), 0.0, remote_address_, false});
  co_await LingeringClose();
}

// Runs the handler while a second coroutine watches the socket; the first to finish (always
// the handler: the watcher parks after a disconnect) cancels the other, and the operator
// waits for both, so the socket has no read pending when the next request is parsed.
asio::awaitable<void> Connection::RunHandler(const Handler& handler, Request& req,
                                             ConnectionResponder& res) {
  using namespace asio::experimental::awaitable_operators;
  std::string error;
  auto invoke = [](const Handler& h, Request& r, Responder& out,
                   std::string& err) -> asio::awaitable<void> {
    try {
      co_await h(r, out);
    } catch (const std::exception& e) {
      err = e.what();
      if (err.empty()) err = "exception";
    } catch (...) {
      err = "unknown exception";
    }
  };
  current_cancel_ = &req.cancel;
  co_await (invoke(handler, req, res, error) || WatchForDisconnect(req.cancel));
  current_cancel_ = nullptr;

  if (!error.empty()) {
    LogWarning("http: handler for " + req.method + " " + req.path + " threw: " + error);
  }
  if (!res.started()) {
    if (!gone()) {
      co_await res.SendError(500, error.empty() ? "the handler sent no response" : "internal error",
                             kErrInternal);
    }
  } else if (res.streaming()) {
    // A stream the handler left open: end it cleanly, unless the handler failed, in which
    // case closing without the last chunk tells the client the body is truncated.
    if (error.empty() && !gone()) {
      co_await res.Finish();
    } else {
      broken_ = true;
    }
  }
}

asio::awaitable<void> Connection::WatchForDisconnect(CancellationToken token) {
  co_await asio::this_coro::throw_if_cancelled(false);
  while (!closed_ && buffer_.size() < kMaxPipelinedBytes) {
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(kReadChunk), kUseTuple);
    buffer_.commit(n);  // bytes of a pipelined request stay for the next parse
    asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return;  // the handler finished
    if (ec) {
      peer_gone_ = true;
      token.Cancel();
      break;
    }
  }
  // Park until the handler finishes and cancels us.
  asio::steady_timer park(socket_.get_executor(), Clock::time_point::max());
  co_await park.async_wait(kUseTuple);
}

asio::awaitable<void> Connection::LingeringClose() {
  if (closed_) co_return;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  SetDeadline(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime));
  char scratch[4096];
  for (size_t total = 0; total < kLingerMaxBytes && !closed_;) {
    auto [read_ec, n] = co_await socket_.async_read_some(asio::buffer(scratch), kUseTuple);
    if (read_ec) break;
    total += n;
  }
  Close();
}

asio::awaitable<void> Connection::Watchdog(std::shared_ptr<Connection> self) {
  while (!self->closed_) {
    co_await self->deadline_timer_.async_wait(kUseTuple);
    if (self->closed_) break;
    Clock::time_point now = Clock::now();
    if (self->deadline_ <= now) {
      self->timed_out_ = true;
      self->deadline_ = Clock::time_point::max();
      error_code ec;
      self->socket_.cancel(ec);
    }
    // Re-arm for the current deadline (the timer woke early, late, or for a new deadline).
    if (self->deadline_timer_.expiry() != self->deadline_ ||
        self->deadline_timer_.expiry() <= now) {
      self->deadline_timer_.expires_at(self->deadline_);
    }
  }
}

void StartConnection(ServerState& state, tcp::socket socket) {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(state.mu);
    uint64_t id = state.next_connection_id++;
    state.open_connections.fetch_add(1);
    conn = std::make_shared<Connection>(state, std::move(socket), id);
    state.connections.emplace(id, conn);
  }
  asio::co_spawn(conn->executor(), Connection::Run(conn), LogCoroutineException);
}

void CloseAllConnections(ServerState& state) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(state.mu);
    for (auto& [id, weak] : state.connections) {
      if (auto conn = weak.lock()) live.push_back(std::move(conn));
    }
  }
  for (auto& conn : live) {
    asio::post(conn->executor(), [conn] { conn->Close(); });
  }
}

}  // namespace dte::http::internal
