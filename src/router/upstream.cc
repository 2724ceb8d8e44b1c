#include "router/upstream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <tuple>
#include <utility>

#include "http/connection_pool.h"

namespace dte::router {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kScratchBytes = 16 * 1024;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

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

Upstream::Upstream(asio::any_io_executor executor, std::string host, uint16_t port,
                   UpstreamOptions options)
    : options_(options),
      pool_(std::make_unique<http::ConnectionPool>(std::move(executor), std::move(host), port,
                                                   options.connect_timeout,
                                                   options.max_idle_connections)) {}

Upstream::~Upstream() = default;

size_t Upstream::idle_connections() const { return pool_->idle_connections(); }
uint64_t Upstream::connections_opened() const { return pool_->connections_opened(); }
void Upstream::CloseIdle() { pool_->CloseIdle(); }

asio::awaitable<ForwardResult> Upstream::Forward(const UpstreamRequest& request, UpstreamSink& sink,
                                                 http::CancellationToken cancel) {
  const std::string& where = pool_->where();
  http::OutgoingRequest req = http::MakeRequest(request.method, request.target, where);
  for (const auto& [name, value] : request.headers)
    if (!IsHopByHopHeader(name)) req.insert(name, value);
  http::SetRequestBody(req, request.body);
  const bhttp::verb verb = req.method();
  req.keep_alive(true);
  std::vector<char> scratch(kScratchBytes);
  ForwardResult result;

  for (int attempt = 0;; ++attempt) {
    if (cancel.cancelled()) co_return ForwardResult{ForwardOutcome::kClientGone, 0, "client gone"};
    std::shared_ptr<http::PooledConnection> conn = pool_->TakeIdle();
    if (!conn) {
      Result<std::shared_ptr<http::PooledConnection>> connected = co_await pool_->Connect();
      if (!connected.ok()) {
        result.outcome = ForwardOutcome::kConnectFailed;
        result.error = connected.status().message();
        co_return result;
      }
      conn = std::move(*connected);
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
      if (may_retry && !parser.got_some() && http::IsStaleConnection(hec)) continue;
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
    if (parser.get().keep_alive() && !gone()) pool_->GiveBack(std::move(conn));
    result.outcome = ForwardOutcome::kOk;
    co_return result;
  }
}

}  // namespace dte::router
