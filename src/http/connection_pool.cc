#include "http/connection_pool.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <tuple>
#include <utility>

namespace dte::http {
namespace {

namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

PooledConnection::PooledConnection(const asio::any_io_executor& executor)
    : stream(asio::make_strand(executor)) {}

ConnectionPool::ConnectionPool(asio::any_io_executor executor, std::string host, uint16_t port,
                               std::chrono::milliseconds connect_timeout, size_t max_idle)
    : executor_(std::move(executor)),
      host_(std::move(host)),
      port_(port),
      where_(host_ + ":" + std::to_string(port)),
      connect_timeout_(connect_timeout),
      max_idle_(max_idle) {}

size_t ConnectionPool::idle_connections() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

std::shared_ptr<PooledConnection> ConnectionPool::TakeIdle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return nullptr;
  std::shared_ptr<PooledConnection> conn = std::move(idle_.back());  // most recently used
  idle_.pop_back();
  return conn;
}

void ConnectionPool::GiveBack(std::shared_ptr<PooledConnection> conn) {
  conn->reused = true;
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
}

void ConnectionPool::CloseIdle() {
  std::vector<std::shared_ptr<PooledConnection>> idle;
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

asio::awaitable<Result<std::shared_ptr<PooledConnection>>> ConnectionPool::Connect() {
  auto conn = std::make_shared<PooledConnection>(executor_);
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host_, ec);
  if (!ec) {
    const tcp::endpoint endpoint(address, port_);
    conn->stream.expires_after(connect_timeout_);
    std::tie(ec) = co_await conn->stream.async_connect(endpoint, kUseTuple);
  } else {  // a host name: resolve it on each new connection (cheap next to a request)
    tcp::resolver resolver(executor_);
    const std::string service = std::to_string(port_);
    auto [rec, endpoints] = co_await resolver.async_resolve(host_, service, kUseTuple);
    ec = rec;
    if (!ec) {
      conn->stream.expires_after(connect_timeout_);
      auto [cec, endpoint] = co_await conn->stream.async_connect(endpoints, kUseTuple);
      ec = cec;
    }
  }
  if (ec) co_return Status::Unavailable("cannot connect to " + where_ + ": " + ec.message());
  error_code ignored;
  conn->stream.socket().set_option(tcp::no_delay(true), ignored);
  connections_opened_.fetch_add(1);
  co_return conn;
}

bool IsStaleConnection(error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream;
}

OutgoingRequest MakeRequest(std::string_view method, std::string_view target, const std::string& where) {
  OutgoingRequest req;
  const bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, where);
  return req;
}

void SetRequestBody(OutgoingRequest& req, std::string_view body) {
  req.body().assign(body.data(), body.size());
  const bhttp::verb verb = req.method();
  if (!body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put ||
      verb == bhttp::verb::patch) {
    req.prepare_payload();
  }
}

}  // namespace dte::http
