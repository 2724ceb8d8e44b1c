#pragma once
// Upstream: forwards one request to one backend over a pool of keep-alive connections and
// passes the response on as it arrives (the streaming half of the proxy). Unlike http::Client
// it reports the response head before the body (so the proxy can start its own response with
// the backend's status and headers, or decline it and retry elsewhere), and it closes the
// backend connection when the client's CancellationToken fires (the worker then cancels the
// generation even while it has nothing to send yet).
//
// Errors are classified by how far the exchange got, which is what the retry rule needs.
// Thread-safe: any number of coroutines on any threads may Forward() through one Upstream; it
// must outlive them. Beast lives only in upstream.cc.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/cancellation.h"
#include "http/headers.h"

namespace dte::http {
class ConnectionPool;
}

namespace dte::router {

namespace asio = boost::asio;

struct UpstreamOptions {
  std::chrono::milliseconds connect_timeout{2'000};
  // Per read or write step; a generation may run long as long as its chunks keep coming, but
  // a non-streamed response arrives only at the end, so this is generous.
  std::chrono::milliseconds io_timeout{600'000};
  size_t max_idle_connections = 64;
  size_t header_limit = 64u << 10;
};

struct UpstreamHead {
  int status = 0;
  http::Headers headers;  // as the backend sent them (hop-by-hop ones included)
  bool chunked = false;   // a streamed body (Transfer-Encoding: chunked)
  std::optional<uint64_t> content_length;
};

// Receives the response. OnHead is awaited once before any OnBody; returning false abandons the
// exchange (the connection is closed, nothing more is read). OnBody gets body bytes as they
// arrive, chunk framing removed; returning false means the client is gone.
class UpstreamSink {
 public:
  virtual ~UpstreamSink() = default;
  virtual asio::awaitable<bool> OnHead(const UpstreamHead& head) = 0;
  virtual asio::awaitable<bool> OnBody(std::string_view bytes) = 0;
};

enum class ForwardOutcome {
  kOk,                // the whole response went to the sink
  kConnectFailed,     // no connection could be made (nothing was sent)
  kFailedBeforeHead,  // sending or reading the head failed (the backend may have seen it)
  kFailedInBody,      // the body broke off after OnHead accepted it
  kDeclined,          // OnHead returned false
  kClientGone,        // OnBody returned false, or the cancellation token fired
};
std::string_view ForwardOutcomeName(ForwardOutcome o);

struct ForwardResult {
  ForwardOutcome outcome = ForwardOutcome::kOk;
  int status = 0;     // the backend's status when a head arrived
  std::string error;  // what went wrong, for logs
};

struct UpstreamRequest {
  std::string method;
  std::string target;
  http::Headers headers;  // end-to-end headers to send (Host and Content-Length are set here)
  std::string_view body;
};

class Upstream {
 public:
  Upstream(asio::any_io_executor executor, std::string host, uint16_t port,
           UpstreamOptions options = {});
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  asio::awaitable<ForwardResult> Forward(const UpstreamRequest& request, UpstreamSink& sink,
                                         http::CancellationToken cancel);

  size_t idle_connections() const;
  uint64_t connections_opened() const;
  // Closes the idle connections (a removed backend).
  void CloseIdle();

 private:
  const UpstreamOptions options_;
  const std::unique_ptr<http::ConnectionPool> pool_;
};

// True for headers that belong to one connection, not the message (RFC 9110 7.6.1), plus the
// framing ones a proxy recomputes (Content-Length, Transfer-Encoding) and Host.
bool IsHopByHopHeader(std::string_view name);

}  // namespace dte::router
