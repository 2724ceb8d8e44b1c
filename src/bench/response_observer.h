#pragma once
// ResponseObserver: watches one response arrive and turns it into a RequestRecord: time to
// first content, gaps between content chunks, output tokens (the server's usage count when
// it sends one, else the number of content chunks), and the kind of failure, if any.
//
// Error kinds: "connect" (no connection), "timeout" (a read stalled or the request ran past
// its deadline), "disconnect" (the connection broke or a stream ended without [DONE]),
// "http_<status>" (a status >= 400), "stream_error" (an error object inside the response),
// "bad_response" (not the JSON/SSE an OpenAI server sends), "body_too_large".
//
// Times are passed in, so tests can drive it with a fake clock. One request's observer
// belongs to that request (not synchronized).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "bench/recorder.h"
#include "bench/stream_reader.h"

namespace dte::bench {

class ResponseObserver {
 public:
  ResponseObserver(SteadyClock::time_point sent, bool streamed, int turn = 0);

  // Streamed responses: body bytes as they arrive.
  void OnBytes(std::string_view bytes, SteadyClock::time_point now);
  // A raw request (not an OpenAI API call): any status below 400 is a success, the body is
  // not interpreted.
  void set_raw(bool raw) { raw_ = raw; }
  // The request ran past its deadline and the runner stopped reading.
  void MarkTimedOut() { timed_out_ = true; }

  // `transport` is the client's result: an error, or ok with the HTTP `status` and (for a
  // response that was not streamed) its `body`.
  RequestRecord Finish(const Status& transport, int status, std::string_view body,
                       SteadyClock::time_point now);

  // The error kind of a failed exchange with the client (Unavailable: "connect", ...).
  static std::string TransportErrorKind(const Status& s);

 private:
  void OnPayload(const ChunkInfo& chunk, SteadyClock::time_point now);

  RequestRecord record_;
  const bool streamed_;
  SseParser sse_;
  bool done_ = false;
  bool malformed_ = false;
  bool timed_out_ = false;
  bool raw_ = false;
  std::optional<std::string> error_message_;
  int64_t content_chunks_ = 0;
  std::optional<int64_t> usage_tokens_;
  std::optional<SteadyClock::time_point> last_content_;
};

}  // namespace dte::bench
