#pragma once
// Turns what the engine recorded about one generation (Completion::timing, usage, finish
// reason) into the worker's trace spans, after the fact: the scheduler thread only reads the
// clock; the handler calls AddEngineSpans once the request is done. Spans (docs/observability.md):
//
//   worker.request (the caller's server span)
//   ├─ cache.get          the state cache's prefix lookup (dte.cache.tier, dte.cache.hit)
//   ├─ engine.queue_wait  queued -> admitted into the batch (dte.queue_depth)
//   ├─ engine.prefill     admitted -> first token (dte.prefill.tokens, dte.cache.cached_tokens,
//   │  │                  dte.cache.tier)
//   │  └─ cache.put       each prefix checkpoint copied out for the cache's writer
//   └─ engine.decode      first token -> finished (dte.decode.tokens,
//                         gen_ai.response.finish_reasons)
//
// Threading: a plain function; call it from the thread that owns the parent span. Does nothing
// (no allocation) when the parent is not sampled.

#include "engine/request.h"
#include "telemetry/tracer.h"

namespace dte::server {

void AddEngineSpans(const Tracer& tracer, const TraceContext& parent, const Completion& completion);

}  // namespace dte::server
