#pragma once
// Decides, token by token, which generated text may be streamed to the client and when the
// generation stops: on a stop token id, or when the output bytes contain a stop string.
//
// Feed each generated token with its decoded bytes. The matcher holds back
//   * the longest suffix of the output that could still grow into a stop string (so a stop
//     string split over several tokens is never partly emitted), and
//   * an incomplete UTF-8 sequence at the end (so a character is never split; see
//     Utf8StreamBuffer).
// Neither the stop string nor the stop token's bytes are emitted; the text before them is.
// Matching is on bytes, which for valid UTF-8 is the same as matching characters.
//
// One matcher per request; one thread at a time. Buffers are reserved at construction, so Feed
// does not allocate in steady state (only if a single token brings more bytes than ever before).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/utf8_stream.h"

namespace dte {

enum class StopReason { kNone, kToken, kString };

// The outcome of one StopMatcher::Feed / Finish call.
struct StopStep {
  // Valid UTF-8 that is safe to emit now. Points into the matcher: valid until its next call.
  std::string_view text;
  bool stopped = false;
  StopReason reason = StopReason::kNone;
  int32_t stop_token = -1;  // the stop token id, when reason == kToken
  int stop_string = -1;     // index into stop_strings(), when reason == kString
};

class StopMatcher {
 public:
  StopMatcher() = default;  // no stops: only the UTF-8 hold-back
  // Empty stop strings are ignored (Validate rejects them on user input).
  StopMatcher(std::vector<int32_t> stop_tokens, std::vector<std::string> stop_strings);

  // InvalidArgument if a stop string is empty.
  static Status Validate(std::span<const std::string> stop_strings);

  // One generated token. After a stop, further calls return {"", stopped} and change nothing.
  StopStep Feed(int32_t token, std::string_view bytes);
  // The generation ended for another reason (length limit, cancellation): releases everything
  // held back (an incomplete UTF-8 tail becomes U+FFFD).
  StopStep Finish();

  // Back to the state after construction, same stops.
  void Reset();

  bool stopped() const { return stopped_; }
  const std::vector<std::string>& stop_strings() const { return stop_strings_; }

 private:
  bool IsStopToken(int32_t token) const;
  // Earliest start of a stop string in pending_; sets *which to its index. npos if none.
  size_t FindStopString(int* which) const;
  // Where the longest suffix of pending_ that is a proper prefix of a stop string begins.
  size_t HoldBackStart() const;
  // Emits pending_[0, end) through the UTF-8 buffer into out_, flushing it if `final`.
  void Release(size_t end, bool final);

  std::vector<int32_t> stop_tokens_;
  std::vector<std::string> stop_strings_;
  size_t max_stop_len_ = 0;

  std::string pending_;  // output bytes not yet released (a possible stop string start)
  std::string out_;      // the text of the last StopStep
  Utf8StreamBuffer utf8_;
  bool stopped_ = false;
};

}  // namespace dte
