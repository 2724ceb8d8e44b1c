#pragma once
// Server: the HTTP/1.1 transport. It owns an io_context and its threads, a listener that
// accepts connections, and one session coroutine per connection (on its own strand) that
// parses requests, asks the Router for a handler and runs it (the CppCon2018 split: listener /
// session / shared state). Keep-alive, pipelined requests answered one after another,
// TCP_NODELAY, body / header limits and read / idle / write timeouts are handled here; so are
// the error responses the transport itself produces, whose body the owner shapes through
// ErrorBodyFn (the http layer knows no JSON schema).
//
// While a handler runs, the session keeps a read pending on the socket: if the client closes
// or resets the connection, the request's CancellationToken is cancelled at once (on the
// connection's strand), so a handler waiting on engine work learns it without writing.
// (A client that half-closes its sending side is treated as gone too.)
//
// Lifecycle: construct, Start(), then from any thread: BeginDrain() (stop accepting, answer
// new requests 503 with Connection: close, let in-flight ones finish), WaitDrained(timeout),
// Stop() (closes every connection, cancels in-flight requests, joins the threads). The
// destructor calls Stop(). Handlers and the owner's callbacks run on the io threads and must
// be thread-safe when io_threads > 1.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "http/router.h"

namespace boost::asio {
class io_context;
}

namespace dte::http {

// Machine-readable codes passed to ErrorBodyFn for transport-generated errors.
inline constexpr std::string_view kErrBadRequest = "bad_request";               // 400
inline constexpr std::string_view kErrNotFound = "not_found";                   // 404
inline constexpr std::string_view kErrMethodNotAllowed = "method_not_allowed";  // 405
inline constexpr std::string_view kErrRequestTimeout = "request_timeout";       // 408
inline constexpr std::string_view kErrBodyTooLarge = "body_too_large";          // 413
inline constexpr std::string_view kErrHeadersTooLarge = "headers_too_large";    // 431
inline constexpr std::string_view kErrInternal = "internal_error";              // 500
inline constexpr std::string_view kErrDraining = "draining";                    // 503

struct ErrorBody {
  std::string content_type;
  std::string body;
};
// Shapes the body of an error response the transport produces. The default gives text/plain
// "<message>\n".
using ErrorBodyFn =
    std::function<ErrorBody(int status, std::string_view message, std::string_view code)>;

// One finished request (or a request that failed before it could be routed, with whatever
// was parsed: method and path may be empty).
struct RequestLogEntry {
  std::string_view method;
  std::string_view path;
  int status = 0;           // 0 when no response could be sent
  uint64_t body_bytes = 0;  // response body bytes written (chunk payloads for streams)
  double latency_s = 0;     // from the end of the request header to the end of the response
  std::string_view remote_address;
  bool cancelled = false;  // the client went away before the response was complete
};
using RequestLogFn = std::function<void(const RequestLogEntry&)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                // 0: an ephemeral port, see Server::port()
  size_t body_limit = 8u << 20;     // bytes; larger bodies get 413
  size_t header_limit = 16u << 10;  // bytes, request line included; larger headers get 431
  // From the first byte of a request to its last; slower requests get 408.
  std::chrono::milliseconds read_timeout{30'000};
  // How long a keep-alive connection may sit between requests before it is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  // Per write; a client that stops reading a stream for this long is disconnected.
  std::chrono::milliseconds write_timeout{60'000};
  // How long Stop() waits for handlers to end after cancelling them before it stops the loop.
  std::chrono::milliseconds stop_grace{2'000};
  int io_threads = 1;
  ErrorBodyFn error_body;    // optional
  RequestLogFn request_log;  // optional; called on an io thread after each response
};

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the io threads. Fails (IoError) if the address cannot be bound.
  Status Start();
  // The bound port (the ephemeral one when options.port was 0); 0 before Start().
  uint16_t port() const;
  // The loop the sessions run on, for the owner's signal_set, timers or Clients. Valid from
  // construction until destruction; it runs from Start() to Stop().
  boost::asio::io_context& io_context();

  // Thread-safe; idempotent. Not async-signal-safe: call it from a signal_set handler.
  void BeginDrain();
  // Blocks until no request is in flight (true) or `timeout` passes (false). Idle keep-alive
  // connections do not count; Stop() closes them.
  bool WaitDrained(std::chrono::milliseconds timeout);
  // Closes the listener and all connections (cancelling in-flight requests), waits up to
  // options.stop_grace for their handlers to return, then stops and joins the io threads.
  // Idempotent; not to be called from an io thread.
  void Stop();

  bool draining() const;
  size_t open_connections() const;
  size_t in_flight_requests() const;
  uint64_t requests_total() const;  // requests whose header was read

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dte::http
