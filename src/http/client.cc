#include "http/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <utility>

#include "http/connection_pool.h"

namespace dte::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kScratchBytes = 16 * 1024;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

Client::Client(asio::any_io_executor executor, std::string host, uint16_t port,
               ClientOptions options)
    : host_(std::move(host)),
      port_(port),
      options_(options),
      pool_(std::make_unique<ConnectionPool>(std::move(executor), host_, port,
                                             options.connect_timeout,
                                             options.max_idle_connections)) {}

Client::~Client() = default;

size_t Client::idle_connections() const { return pool_->idle_connections(); }
uint64_t Client::connections_opened() const { return pool_->connections_opened(); }

asio::awaitable<Result<ClientResponse>> Client::Request(std::string method, std::string target,
                                                        Headers headers, std::string body) {
  co_return co_await Exchange(method, target, headers, body, nullptr);
}

asio::awaitable<Result<ClientResponse>> Client::Stream(std::string method, std::string target,
                                                       Headers headers, std::string body,
                                                       ChunkFn on_chunk) {
  co_return co_await Exchange(method, target, headers, body, &on_chunk);
}

asio::awaitable<Result<ClientResponse>> Client::Exchange(const std::string& method,
                                                         const std::string& target,
                                                         const Headers& headers,
                                                         const std::string& body,
                                                         const ChunkFn* on_chunk) {
  const std::string& where = pool_->where();
  OutgoingRequest req = MakeRequest(method, target, where);
  for (const auto& [name, value] : headers) req.set(name, value);
  SetRequestBody(req, body);
  const bhttp::verb verb = req.method();
  std::vector<char> scratch(kScratchBytes);

  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<PooledConnection> conn = pool_->TakeIdle();
    if (!conn) {
      auto connected = co_await pool_->Connect();
      if (!connected.ok()) co_return connected.status();
      conn = std::move(*connected);
    }
    const bool may_retry = conn->reused && attempt == 0;

    conn->stream.expires_after(options_.io_timeout);
    auto [wec, wn] = co_await bhttp::async_write(conn->stream, req, kUseTuple);
    if (wec) {
      if (may_retry) continue;
      co_return Status::IoError("sending to " + where + " failed: " + wec.message());
    }

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    if (on_chunk != nullptr) {
      parser.body_limit(boost::none);
    } else {
      parser.body_limit(options_.body_limit);
    }
    if (verb == bhttp::verb::head) parser.skip(true);
    conn->stream.expires_after(options_.io_timeout);
    auto [hec, hn] =
        co_await bhttp::async_read_header(conn->stream, conn->buffer, parser, kUseTuple);
    if (hec) {
      if (may_retry && !parser.got_some() && IsStaleConnection(hec)) continue;
      co_return Status::IoError("reading the response from " + where + " failed: " + hec.message());
    }

    ClientResponse response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      response.headers.Add(std::string(ToStd(field.name_string())),
                           std::string(ToStd(field.value())));
    }
    while (!parser.is_done()) {
      parser.get().body().data = scratch.data();
      parser.get().body().size = scratch.size();
      conn->stream.expires_after(options_.io_timeout);
      auto [ec, n] = co_await bhttp::async_read_some(conn->stream, conn->buffer, parser, kUseTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::body_limit) {
        co_return Status::OutOfRange("response body from " + where + " exceeds " +
                                     std::to_string(options_.body_limit) + " bytes");
      }
      if (ec) {
        co_return Status::IoError("reading the response body from " + where +
                                  " failed: " + ec.message());
      }
      size_t got = scratch.size() - parser.get().body().size;
      if (got == 0) continue;
      if (on_chunk == nullptr) {
        response.body.append(scratch.data(), got);
      } else if (!co_await (*on_chunk)(std::string_view(scratch.data(), got))) {
        response.complete = false;
        co_return response;  // `conn` is dropped (closed): its response was not read out
      }
    }
    if (parser.get().keep_alive()) pool_->GiveBack(std::move(conn));
    co_return response;
  }
}

}  // namespace dte::http
