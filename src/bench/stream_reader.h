#pragma once
// Reading an OpenAI-compatible response as a client sees it.
//
// SseParser splits a Server-Sent Events byte stream (arriving in arbitrary pieces) into the
// data payloads of its events: "data:" lines of one event are joined with "\n", comments and
// other fields are ignored, lines may end in "\n" or "\r\n".
//
// ParseChunk interprets one payload of a streamed completion or chat completion (or the body
// of a non-streamed one): "[DONE]", text content, usage, or an error object. It accepts the
// shapes of OpenAI, `dte serve` and llama.cpp's `llama-server`.
//
// Plain values, not synchronized: one request's reader belongs to that request.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dte::bench {

class SseParser {
 public:
  // Appends `bytes` and returns the payloads of the events they completed, in order.
  std::vector<std::string> Feed(std::string_view bytes);
  // Bytes received that did not yet complete an event.
  size_t pending_bytes() const { return line_.size() + data_.size(); }

 private:
  void EndLine(std::vector<std::string>& out);

  std::string line_;  // the current, unfinished line
  std::string data_;  // data of the current event so far
  bool has_data_ = false;
  bool last_was_cr_ = false;
};

struct ChunkInfo {
  bool done = false;         // the "[DONE]" marker
  bool malformed = false;    // not JSON, or not an object
  size_t content_bytes = 0;  // text (completions) or delta.content (chat) of every choice
  std::optional<int64_t> completion_tokens;  // from "usage", when present
  std::optional<std::string> error;          // the message of an "error" object
};

ChunkInfo ParseChunk(std::string_view payload);

}  // namespace dte::bench
