#pragma once
// What a route handler sees: the Request it answers and the Responder it answers through.
// A handler is a coroutine run on its connection's executor (a strand):
//
//   asio::awaitable<void> Hello(Request& req, Responder& res) {
//     co_await res.Send(200, "text/plain", "hello\n");
//   }
//
// Both objects belong to the connection and live until the handler's coroutine returns. A
// handler must not block its thread (it shares it with other connections); it waits on engine
// work with co_await (see AsyncNotifier) and learns that its client went away from
// `req.cancel`. Only Boost's awaitable header is included here, not Beast.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "http/cancellation.h"
#include "http/headers.h"

namespace dte::http {

namespace asio = boost::asio;

// One parsed HTTP request. Filled by the connection; the router adds `path_params`.
struct Request {
  std::string method;      // as sent, e.g. "POST"
  std::string target;      // the raw request-target, e.g. "/v1/models?limit=2"
  std::string path;        // the target before '?', not percent-decoded, e.g. "/v1/models"
  QueryParams query;       // the target after '?', decoded
  PathParams path_params;  // {name} segments of the matched route, decoded
  Headers headers;
  std::string body;
  int version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::string remote_address;
  uint16_t remote_port = 0;
  SteadyClock::time_point received_at{};  // when the request's header had been read
  // Set when the client disconnects (or the server stops) while the request is in flight.
  CancellationToken cancel;

  std::string_view Header(std::string_view name) const { return headers.GetOr(name); }
  std::optional<std::string_view> Query(std::string_view name) const {
    return FindParam(query, name);
  }
  std::string_view PathParam(std::string_view name) const {
    return FindParam(path_params, name).value_or(std::string_view());
  }
  bool cancelled() const { return cancel.cancelled(); }
};

// Writes the response to one Request: either Send() once, or StartStream(), any number of
// Write()s and Finish(). Every call returns false once the client is gone (disconnected, or a
// write failed or timed out); the handler should then stop and cancel its work. One write is
// in flight at a time: each call completes when the bytes are handed to the socket, which is
// the back-pressure a streaming handler needs. Arguments passed by view must stay valid until
// the returned awaitable completes (co_await it at once). Implemented by the connection; tests
// of handlers can implement it with a fake.
class Responder {
 public:
  virtual ~Responder() = default;

  // A whole response with Content-Length. `extra_headers` are added as given.
  asio::awaitable<bool> Send(int status, std::string_view content_type, std::string body,
                             Headers extra_headers = {}) {
    return DoSend(status, content_type, std::move(body), std::move(extra_headers));
  }
  // Sends the status line and headers of a streamed response (chunked for HTTP/1.1).
  asio::awaitable<bool> StartStream(int status, std::string_view content_type = "text/event-stream",
                                    Headers extra_headers = {}) {
    return DoStartStream(status, content_type, std::move(extra_headers));
  }
  // Sends one chunk of a streamed response. An empty chunk sends nothing and returns true.
  asio::awaitable<bool> Write(std::string_view chunk) { return DoWrite(chunk); }
  // Ends a streamed response. The connection calls it if the handler returns without it.
  asio::awaitable<bool> Finish() { return DoFinish(); }

  // True once Send or StartStream has been called.
  virtual bool started() const = 0;

 protected:
  virtual asio::awaitable<bool> DoSend(int status, std::string_view content_type, std::string body,
                                       Headers extra_headers) = 0;
  virtual asio::awaitable<bool> DoStartStream(int status, std::string_view content_type,
                                              Headers extra_headers) = 0;
  virtual asio::awaitable<bool> DoWrite(std::string_view chunk) = 0;
  virtual asio::awaitable<bool> DoFinish() = 0;
};

// A route handler. Exceptions it throws are caught by the connection (500 if nothing was sent
// yet, otherwise the connection is closed), but handlers should report errors as responses.
using Handler = std::function<asio::awaitable<void>(Request&, Responder&)>;

}  // namespace dte::http
