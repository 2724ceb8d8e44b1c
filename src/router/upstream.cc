#include "router/upstream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <tuple>
#include <utility>

namespace dte::router {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kScratchBytes = 16 * 1024;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

// "The server closed this idle keep-alive connection before we used it".
bool IsStaleConnection(error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream;
}

}  // namespace

bool IsHopByHopHeader(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "connection",
      "keep-alive",
      "proxy-connection",
      "proxy-authenticate",
      "proxy-authorization",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "content-length",
      "host",
      "expect"};  // Expect: the router has the whole body already
  for (std::string_view n : kNames)
    if (http::EqualsIgnoreCase(n, name)) return true;
  return false;
}

std::string_view ForwardOutcomeName(ForwardOutcome o) {
  switch (o) {
    case ForwardOutcome::kOk:
      return "ok";
    case ForwardOutcome::kConnectFailed:
      return "connect_failed";
    case ForwardOutcome::kFailedBeforeHead:
      return "failed_before_head";
    case ForwardOutcome::kFailedInBody:
      return "failed_in_body";
    case ForwardOutcome::kDeclined:
      return "declined";
    case ForwardOutcome::kClientGone:
      return "client_gone";
  }
  return "?";
}

// A pooled connection. Its stream runs on its own strand: the tcp_stream's timer handlers and
// a cancellation posted from another thread must not run concurrently with its operations.
struct Upstream::Connection {
  explicit Connection(const asio::any_io_executor& executor)
      : stream(asio::make_strand(executor)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool reused = false;
  std::atomic<bool> cancelled{false};
};

Upstream::Upstream(asio::any_io_executor executor, std::string host, uint16_t port,
                   UpstreamOptions options)
    : executor_(std::move(executor)), host_(std::move(host)), port_(port), options_(options) {}

Upstream::~Upstream() = default;

size_t Upstream::idle_connections() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

void Upstream::CloseIdle() {
  std::vector<std::shared_ptr<Connection>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
  }
  for (auto& conn : idle) {
    asio::post(conn->stream.get_executor(), [conn] {
      error_code ignored;
      conn->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      conn->stream.close();
    });
  }
}

std::shared_ptr<Upstream::Connection> Upstream::TakeIdle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return nullptr;
  std::shared_ptr<Connection> conn = std::move(idle_.back());  // most recently used: warmest
  idle_.pop_back();
  return conn;
}

void Upstream::GiveBack(std::shared_ptr<Connection> conn) {
  conn->reused = true;
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

asio::awaitable<std::shared_ptr<Upstream::Connection>> Upstream::Connect(std::string* error) {
  auto conn = std::make_shared<Connection>(executor_);
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host_, ec);
  if (!ec) {
    const tcp::endpoint endpoint(address, port_);
    conn->stream.expires_after(options_.connect_timeout);
    std::tie(ec) = co_await conn->stream.async_connect(endpoint, kUseTuple);
  } else {  // a host name: resolve it on each new connection (cheap next to a generation)
    tcp::resolver resolver(executor_);
    const std::string service = std::to_string(port_);
    auto [rec, endpoints] = co_await resolver.async_resolve(host_, service, kUseTuple);
    ec = rec;
    if (!ec) {
      conn->stream.expires_after(options_.connect_timeout);
      auto [cec, ep] = co_await conn->stream.async_connect(endpoints, kUseTuple);
      ec = cec;
    }
  }
  if (ec) {
    *error = "cannot connect to " + host_ + ":" + std::to_string(port_) + ": " + ec.message();
    co_return nullptr;
  }
  error_code ignored;
  conn->stream.socket().set_option(tcp::no_delay(true), ignored);
  connections_opened_.fetch_add(1);
  co_return conn;
}

asio::awaitable<ForwardResult> Upstream::Forward(const UpstreamRequest& request, UpstreamSink& sink,
                                                 http::CancellationToken cancel) {
  const std::string where = host_ + ":" + std::to_string(port_);
  bhttp::request<bhttp::string_body> req;
  const bhttp::verb verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(request.method);
  } else {
    req.method(verb);
  }
  req.target(request.target);
  req.version(11);
  req.set(bhttp::field::host, where);
  for (const auto& [name, value] : request.headers)
    if (!IsHopByHopHeader(name)) req.insert(name, value);
  req.body().assign(request.body.data(), request.body.size());
  if (!request.body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put ||
      verb == bhttp::verb::patch) {
    req.prepare_payload();
  }
  req.keep_alive(true);
  std::vector<char> scratch(kScratchBytes);
  ForwardResult result;

  for (int attempt = 0;; ++attempt) {
    if (cancel.cancelled()) co_return ForwardResult{ForwardOutcome::kClientGone, 0, "client gone"};
    std::shared_ptr<Connection> conn = TakeIdle();
    if (!conn) {
      conn = co_await Connect(&result.error);
      if (!conn) {
        result.outcome = ForwardOutcome::kConnectFailed;
        co_return result;
      }
    }
    const bool may_retry = conn->reused && attempt == 0;

    // A client that goes away closes the backend connection at once: the worker sees the
    // disconnect and cancels its generation, even while it has nothing to send.
    auto on_cancel = [conn] {
      asio::post(conn->stream.get_executor(), [conn] {
        conn->cancelled = true;
        conn->stream.cancel();
        error_code ignored;
        conn->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    };
    const http::CancellationToken::CallbackId cancel_id = cancel.OnCancel(on_cancel);
    struct Unregister {
      http::CancellationToken& token;
      http::CancellationToken::CallbackId id;
      ~Unregister() {
        if (id != 0) token.Unregister(id);
      }
    } unregister{cancel, cancel_id};
    auto gone = [&]() { return cancel.cancelled() || conn->cancelled.load(); };

    conn->stream.expires_after(options_.io_timeout);
    auto [wec, wn] = co_await bhttp::async_write(conn->stream, req, kUseTuple);
    if (wec) {
      if (gone()) co_return ForwardResult{ForwardOutcome::kClientGone, 0, "client gone"};
      if (may_retry) continue;
      co_return ForwardResult{ForwardOutcome::kFailedBeforeHead, 0,
                              "sending to " + where + " failed: " + wec.message()};
    }

    // An interim response (100 Continue and the like) is skipped: the final head follows.
    std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_slot;
    error_code hec;
    do {
      parser_slot.emplace();
      parser_slot->header_limit(static_cast<std::uint32_t>(options_.header_limit));
      parser_slot->body_limit(boost::none);
      if (verb == bhttp::verb::head) parser_slot->skip(true);
      conn->stream.expires_after(options_.io_timeout);
      auto [ec, n] =
          co_await bhttp::async_read_header(conn->stream, conn->buffer, *parser_slot, kUseTuple);
      hec = ec;
    } while (!hec && parser_slot->get().result_int() / 100 == 1 &&
             parser_slot->get().result_int() != 101);
    bhttp::response_parser<bhttp::buffer_body>& parser = *parser_slot;
    if (hec) {
      if (gone()) co_return ForwardResult{ForwardOutcome::kClientGone, 0, "client gone"};
      if (may_retry && !parser.got_some() && IsStaleConnection(hec)) continue;
      co_return ForwardResult{ForwardOutcome::kFailedBeforeHead, 0,
                              "reading the response from " + where + " failed: " + hec.message()};
    }

    UpstreamHead head;
    head.status = static_cast<int>(parser.get().result_int());
    head.chunked = parser.chunked();
    if (auto len = parser.content_length()) head.content_length = *len;
    for (const auto& field : parser.get())
      head.headers.Add(std::string(ToStd(field.name_string())), std::string(ToStd(field.value())));
    result.status = head.status;
    if (!co_await sink.OnHead(head)) {
      result.outcome = ForwardOutcome::kDeclined;
      co_return result;  // `conn` is dropped: its body was not read out
    }

    while (!parser.is_done()) {
      parser.get().body().data = scratch.data();
      parser.get().body().size = scratch.size();
      conn->stream.expires_after(options_.io_timeout);
      auto [ec, n] = co_await bhttp::async_read_some(conn->stream, conn->buffer, parser, kUseTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) {
        if (gone())
          co_return ForwardResult{ForwardOutcome::kClientGone, head.status, "client gone"};
        co_return ForwardResult{ForwardOutcome::kFailedInBody, head.status,
                                "reading the body from " + where + " failed: " + ec.message()};
      }
      const size_t got = scratch.size() - parser.get().body().size;
      if (got == 0) continue;
      const std::string_view piece(scratch.data(), got);
      if (!co_await sink.OnBody(piece)) {
        co_return ForwardResult{ForwardOutcome::kClientGone, head.status, "client gone"};
      }
    }
    if (parser.get().keep_alive() && !gone()) GiveBack(std::move(conn));
    result.outcome = ForwardOutcome::kOk;
    co_return result;
  }
}

}  // namespace dte::router
