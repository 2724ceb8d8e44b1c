#include "server/request_spans.h"

#include <algorithm>

namespace dte::server {
namespace {

// Clocks can step: never let a span end before it starts.
void EndAt(Span& span, int64_t start, int64_t end) { span.End(std::max(start, end)); }

}  // namespace

void AddEngineSpans(const Tracer& tracer, const TraceContext& parent, const Completion& c) {
  if (!parent.IsValid() || !parent.sampled) return;
  const RequestTiming& t = c.timing;
  const bool failed = c.reason == FinishReason::kError;
  if (t.cache_lookup_start_unix_nano > 0) {
    Span get = tracer.StartSpanAt("cache.get", parent, t.cache_lookup_start_unix_nano);
    get.SetAttribute("dte.cache.tier", t.cache_tier);
    get.SetAttribute("dte.cache.hit", t.cache_tier != "miss");
    get.SetAttribute("dte.cache.prefix_tokens", c.usage.prefix_hit_tokens);
    EndAt(get, t.cache_lookup_start_unix_nano, t.cache_lookup_end_unix_nano);
  }
  if (t.enqueued_unix_nano == 0) return;  // never queued (refused before the engine took it)
  const int64_t finished = std::max(t.finished_unix_nano, t.enqueued_unix_nano);
  const int64_t admitted = t.admitted_unix_nano > 0 ? t.admitted_unix_nano : finished;
  Span wait = tracer.StartSpanAt("engine.queue_wait", parent, t.enqueued_unix_nano);
  wait.SetAttribute("dte.queue_depth", t.queue_depth);
  if (t.admitted_unix_nano == 0 && failed)
    wait.SetStatus(SpanStatusCode::kError, c.error.message());
  EndAt(wait, t.enqueued_unix_nano, admitted);
  if (t.admitted_unix_nano == 0) return;

  const int64_t first = t.first_token_unix_nano > 0 ? t.first_token_unix_nano : finished;
  Span prefill = tracer.StartSpanAt("engine.prefill", parent, admitted);
  prefill.SetAttribute("dte.prefill.tokens", c.usage.prompt_tokens);
  prefill.SetAttribute("dte.cache.cached_tokens", c.usage.cached_tokens);
  if (!t.cache_tier.empty()) prefill.SetAttribute("dte.cache.tier", t.cache_tier);
  for (const CheckpointTiming& cp : t.checkpoints) {
    Span put = tracer.StartSpanAt("cache.put", prefill.context(), cp.start_unix_nano);
    put.SetAttribute("dte.cache.tier", "l1");  // queued for the writer, which puts into L1
    put.SetAttribute("dte.cache.prefix_tokens", cp.tokens);
    EndAt(put, cp.start_unix_nano, cp.end_unix_nano);
  }
  if (t.first_token_unix_nano == 0 && failed)
    prefill.SetStatus(SpanStatusCode::kError, c.error.message());
  EndAt(prefill, admitted, first);
  if (t.first_token_unix_nano == 0) return;

  Span decode = tracer.StartSpanAt("engine.decode", parent, first);
  decode.SetAttribute("dte.decode.tokens", c.usage.completion_tokens);
  decode.SetAttribute("gen_ai.response.finish_reasons", FinishReasonName(c.reason));
  if (failed) decode.SetStatus(SpanStatusCode::kError, c.error.message());
  EndAt(decode, first, finished);
}

}  // namespace dte::server
