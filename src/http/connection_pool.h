#pragma once
// ConnectionPool: keep-alive TCP connections to one host:port, shared by the two HTTP clients of
// the project: http::Client (request/response and streams, src/http/client.cc) and the router's
// Upstream (a proxy's forward, src/router/upstream.cc). A request takes the most recently used
// idle connection (the warmest) or opens one, and gives it back when its response allowed
// keep-alive and was read to the end.
//
// Beast types appear here, so include this header only from the few .cc files that compile Beast
// anyway (keep Beast out of the other translation units). Thread-safe.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte::http {

namespace asio = boost::asio;

// One connection. Its stream runs on its own strand: the tcp_stream's timer handlers and a
// cancellation posted from another thread must not run concurrently with its operations.
struct PooledConnection {
  explicit PooledConnection(const asio::any_io_executor& executor);
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;
  bool reused = false;                // it served a request before (it may have gone stale)
  std::atomic<bool> cancelled{false};  // closed on purpose by its user (Upstream)
};

class ConnectionPool {
 public:
  ConnectionPool(asio::any_io_executor executor, std::string host, uint16_t port,
                 std::chrono::milliseconds connect_timeout, size_t max_idle);

  // The most recently used idle connection, or null.
  std::shared_ptr<PooledConnection> TakeIdle();
  // Keeps `conn` for a later request (marked reused) unless max_idle are already kept.
  void GiveBack(std::shared_ptr<PooledConnection> conn);
  // Shuts the idle connections down (e.g. a backend that left).
  void CloseIdle();
  // A new connection (TCP_NODELAY). A literal address is connected directly; a host name is
  // resolved for each new connection. Unavailable("cannot connect to host:port: ...") on failure.
  asio::awaitable<Result<std::shared_ptr<PooledConnection>>> Connect();

  const std::string& where() const { return where_; }  // "host:port"
  size_t idle_connections() const;
  uint64_t connections_opened() const { return connections_opened_.load(); }

 private:
  const asio::any_io_executor executor_;
  const std::string host_;
  const uint16_t port_;
  const std::string where_;
  const std::chrono::milliseconds connect_timeout_;
  const size_t max_idle_;
  std::atomic<uint64_t> connections_opened_{0};
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<PooledConnection>> idle_;  // guarded by mu_
};

// "The server closed this idle keep-alive connection before we used it": a request that failed
// so on a reused connection, before any byte of a response, may be sent again on a new one.
bool IsStaleConnection(boost::system::error_code ec);

using OutgoingRequest = boost::beast::http::request<boost::beast::http::string_body>;
// An HTTP/1.1 request line and Host `where`; an unknown method is sent as written. The caller
// adds its headers, then the body with SetRequestBody.
OutgoingRequest MakeRequest(std::string_view method, std::string_view target, const std::string& where);
// Sets the body and, when there is one or the method normally carries one, Content-Length.
void SetRequestBody(OutgoingRequest& req, std::string_view body);

}  // namespace dte::http
