#pragma once
// SseWriter: Server-Sent Events on top of a streamed Responder. Event() writes
// "event: <name>\n" (optional) and one "data: <line>\n" per line of the payload, then a blank
// line; Comment() writes ": <text>\n\n", which clients ignore (keep-alives through proxies).
// The static Append* functions format into a caller's buffer, so a handler can batch several
// events into one Write(). Same threading as the Responder: the handler's coroutine only.

#include <string>
#include <string_view>

#include "http/handler.h"

namespace dte::http {

class SseWriter {
 public:
  explicit SseWriter(Responder& responder) : responder_(responder) {}

  // StartStream with text/event-stream, Cache-Control: no-cache and X-Accel-Buffering: no
  // (tells nginx-like proxies not to buffer), plus `extra_headers`.
  asio::awaitable<bool> Start(int status = 200, Headers extra_headers = {});
  asio::awaitable<bool> Event(std::string_view data, std::string_view event = {});
  asio::awaitable<bool> Comment(std::string_view text = "keep-alive");
  // Writes pre-formatted events (from the Append* functions).
  asio::awaitable<bool> Raw(std::string_view formatted) { return responder_.Write(formatted); }
  asio::awaitable<bool> Finish() { return responder_.Finish(); }

  // "\r\n", "\r" and "\n" all end a payload line (they would end an SSE line anyway).
  static void AppendEvent(std::string& out, std::string_view data, std::string_view event = {});
  static void AppendComment(std::string& out, std::string_view text);
  static std::string FormatEvent(std::string_view data, std::string_view event = {});

 private:
  Responder& responder_;
};

}  // namespace dte::http
