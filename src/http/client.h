#pragma once
// Client: HTTP/1.1 requests to one host:port over a small pool of keep-alive connections.
// Used by the router (proxying to workers), the bench (load generation, TTFT) and tests.
//
//   Client client(executor, "127.0.0.1", 8080);
//   Result<ClientResponse> r = co_await client.Request("GET", "/v1/models");
//   co_await client.Stream("POST", "/v1/completions", headers, body,
//       [&](std::string_view chunk) -> asio::awaitable<bool> { ...; co_return true; });
//
// Each request takes an idle connection from the pool (or opens one) and gives it back when
// the response allowed keep-alive and was read to the end. A request on a reused connection
// that the server had meanwhile closed is retried once on a new connection, provided no byte
// of a response had arrived. Errors are values (IoError, Unavailable, OutOfRange for a body
// over the limit). Thread-safe: any number of coroutines, on any threads, may use one Client;
// it must outlive their requests.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/headers.h"

namespace dte::http {

namespace asio = boost::asio;
class ConnectionPool;

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // Limit for each read or write step (not the whole response: a stream may run long as
  // long as its chunks keep coming).
  std::chrono::milliseconds io_timeout{60'000};
  size_t max_idle_connections = 64;
  size_t body_limit = 64u << 20;  // for Request(); Stream() has none
  size_t header_limit = 64u << 10;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;      // empty for Stream()
  bool complete = true;  // false when a Stream() consumer stopped early
};

// Receives body bytes as they arrive (chunk framing removed); returns false to stop reading
// (the connection is then closed, not pooled). Awaited before the next read: back-pressure.
using ChunkFn = std::function<asio::awaitable<bool>(std::string_view chunk)>;

class Client {
 public:
  Client(asio::any_io_executor executor, std::string host, uint16_t port,
         ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  asio::awaitable<Result<ClientResponse>> Request(std::string method, std::string target,
                                                  Headers headers = {}, std::string body = {});
  // Like Request, but the body goes to `on_chunk` as it arrives; the returned response has
  // the status and headers. `on_chunk` is not called for an empty body.
  asio::awaitable<Result<ClientResponse>> Stream(std::string method, std::string target,
                                                 Headers headers, std::string body,
                                                 ChunkFn on_chunk);

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  size_t idle_connections() const;
  uint64_t connections_opened() const;

 private:
  asio::awaitable<Result<ClientResponse>> Exchange(const std::string& method,
                                                   const std::string& target,
                                                   const Headers& headers, const std::string& body,
                                                   const ChunkFn* on_chunk);

  const std::string host_;
  const uint16_t port_;
  const ClientOptions options_;
  const std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace dte::http
