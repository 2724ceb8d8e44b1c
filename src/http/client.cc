#include "http/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <utility>

namespace dte::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kScratchBytes = 16 * 1024;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

// Errors that mean "the server closed this idle connection before we used it".
bool IsStaleConnection(error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream;
}

}  // namespace

// A pooled connection. Its stream runs on a strand of the client's executor, because a
// tcp_stream's timeout handlers must not run concurrently with its operations.
struct Client::Connection {
  explicit Connection(const asio::any_io_executor& executor)
      : stream(asio::make_strand(executor)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool reused = false;
};

Client::Client(asio::any_io_executor executor, std::string host, uint16_t port,
               ClientOptions options)
    : executor_(std::move(executor)), host_(std::move(host)), port_(port), options_(options) {}

Client::~Client() = default;

size_t Client::idle_connections() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

std::unique_ptr<Client::Connection> Client::TakeIdle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return nullptr;
  std::unique_ptr<Connection> conn = std::move(idle_.back());  // most recently used
  idle_.pop_back();
  return conn;
}

void Client::GiveBack(std::unique_ptr<Connection> conn) {
  conn->reused = true;
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

asio::awaitable<Result<std::unique_ptr<Client::Connection>>> Client::Connect() {
  std::string where = host_ + ":" + std::to_string(port_);
  tcp::resolver resolver(executor_);
  auto [rec, endpoints] = co_await resolver.async_resolve(host_, std::to_string(port_), kUseTuple);
  if (rec) co_return Status::Unavailable("cannot resolve " + where + ": " + rec.message());
  auto conn = std::make_unique<Connection>(executor_);
  conn->stream.expires_after(options_.connect_timeout);
  auto [cec, endpoint] = co_await conn->stream.async_connect(endpoints, kUseTuple);
  if (cec) co_return Status::Unavailable("cannot connect to " + where + ": " + cec.message());
  error_code ignored;
  conn->stream.socket().set_option(tcp::no_delay(true), ignored);
  connections_opened_.fetch_add(1);
  co_return std::move(conn);
}

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
  const std::string where = host_ + ":" + std::to_string(port_);
  bhttp::request<bhttp::string_body> req;
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, where);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  if (!body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put ||
      verb == bhttp::verb::patch) {
    req.prepare_payload();
  }
  std::vector<char> scratch(kScratchBytes);

  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn = TakeIdle();
    if (!conn) {
      auto connected = co_await Connect();
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
    if (parser.get().keep_alive()) GiveBack(std::move(conn));
    co_return response;
  }
}

}  // namespace dte::http
