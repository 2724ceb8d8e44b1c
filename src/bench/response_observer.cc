#include "bench/response_observer.h"

namespace dte::bench {
namespace {

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

ResponseObserver::ResponseObserver(SteadyClock::time_point sent, bool streamed, int turn)
    : streamed_(streamed) {
  record_.sent = sent;
  record_.turn = turn;
}

void ResponseObserver::OnBytes(std::string_view bytes, SteadyClock::time_point now) {
  for (const std::string& payload : sse_.Feed(bytes)) OnPayload(ParseChunk(payload), now);
}

void ResponseObserver::OnPayload(const ChunkInfo& chunk, SteadyClock::time_point now) {
  if (chunk.done) {
    done_ = true;
    return;
  }
  if (chunk.malformed) malformed_ = true;
  if (chunk.error && !error_message_) error_message_ = chunk.error;
  if (chunk.completion_tokens) usage_tokens_ = chunk.completion_tokens;
  if (chunk.content_bytes == 0) return;
  ++content_chunks_;
  if (!last_content_) {
    record_.ttft_s = Seconds(now - record_.sent);
  } else {
    record_.gaps_ns.push_back(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - *last_content_).count()));
  }
  last_content_ = now;
}

std::string ResponseObserver::TransportErrorKind(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
      return "connect";
    case StatusCode::kOutOfRange:
      return "body_too_large";
    default:
      break;
  }
  // The client reports Beast's timeout as an I/O error whose message names it.
  const std::string& m = s.message();
  if (m.find("timeout") != std::string::npos || m.find("timed out") != std::string::npos)
    return "timeout";
  return "disconnect";
}

RequestRecord ResponseObserver::Finish(const Status& transport, int status, std::string_view body,
                                       SteadyClock::time_point now) {
  record_.e2e_s = Seconds(now - record_.sent);
  if (raw_ && transport.ok() && status < 400) {
    done_ = true;
  } else if (!streamed_ && transport.ok() && status < 400) {
    const ChunkInfo whole = ParseChunk(body);
    OnPayload(whole, now);
    record_.ttft_s.reset();  // a whole response has no first token to time
    record_.gaps_ns.clear();
    done_ = !whole.malformed;
  }
  if (timed_out_) {
    record_.error = "timeout";
  } else if (!transport.ok()) {
    record_.error = TransportErrorKind(transport);
    record_.error_detail = transport.message();
  } else if (status >= 400) {
    record_.error = "http_" + std::to_string(status);
    record_.error_detail = std::string(body.substr(0, 300));
  } else if (error_message_) {
    record_.error = "stream_error";
    record_.error_detail = *error_message_;
  } else if (malformed_) {
    record_.error = "bad_response";
  } else if (!done_) {
    record_.error = "disconnect";  // the stream ended without its [DONE] marker
  }
  record_.output_tokens = usage_tokens_ ? *usage_tokens_ : content_chunks_;
  return record_;
}

}  // namespace dte::bench
