#include "http/sse.h"

#include <utility>

namespace dte::http {

asio::awaitable<bool> SseWriter::Start(int status, Headers extra_headers) {
  extra_headers.Set("Cache-Control", "no-cache");
  extra_headers.Set("X-Accel-Buffering", "no");
  return responder_.StartStream(status, "text/event-stream", std::move(extra_headers));
}

asio::awaitable<bool> SseWriter::Event(std::string_view data, std::string_view event) {
  std::string text;
  AppendEvent(text, data, event);
  // `text` must live until the write completes, so await here rather than return the awaitable.
  co_return co_await responder_.Write(text);
}

asio::awaitable<bool> SseWriter::Comment(std::string_view text) {
  std::string out;
  AppendComment(out, text);
  co_return co_await responder_.Write(out);
}

void SseWriter::AppendEvent(std::string& out, std::string_view data, std::string_view event) {
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += '\n';
  }
  for (;;) {
    size_t eol = data.find_first_of("\r\n");
    out += "data: ";
    out += data.substr(0, eol);
    out += '\n';
    if (eol == std::string_view::npos) break;
    size_t skip = (data[eol] == '\r' && eol + 1 < data.size() && data[eol + 1] == '\n') ? 2 : 1;
    data.remove_prefix(eol + skip);
  }
  out += '\n';
}

void SseWriter::AppendComment(std::string& out, std::string_view text) {
  out += ": ";
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;  // stays one comment line
  out += "\n\n";
}

std::string SseWriter::FormatEvent(std::string_view data, std::string_view event) {
  std::string out;
  AppendEvent(out, data, event);
  return out;
}

}  // namespace dte::http
