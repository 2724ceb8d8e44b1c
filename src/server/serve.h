#pragma once
// `dte serve`: one worker process. Loads the model, starts the engine and the HTTP server,
// and runs until SIGTERM/SIGINT, then drains: stops accepting, answers new requests 503,
// lets in-flight work finish (up to drain_timeout), writes sessions and the RAM tiers of the
// state cache to disk (with --cache-dir), exits 0.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cache/eviction_policy.h"
#include "engine/engine.h"
#include "server/api_service.h"

namespace dte::server {

// The state cache of `dte serve` (see docs/state_cache.md).
struct ServeCacheOptions {
  bool enabled = true;
  size_t ram_mb = 1024;         // L1: decoded states
  size_t compressed_mb = 2048;  // L2: lz4-compressed states (0: no L2)
  std::string dir;              // L3 on disk when set (survives restarts)
  size_t disk_mb = 16384;
  std::string redis_url;  // shared tier when set (sessions continue on any worker)
  int64_t checkpoint_interval = 2048;
  EvictionPolicyKind eviction = EvictionPolicyKind::kWTinyLfu;  // L1 and L2 (docs/state_cache.md)
  // TTLs (0: never; see docs/state_cache.md, "TTLs"). The RAM TTLs apply to prefix checkpoints,
  // not to sessions; L3 and Redis TTLs apply to everything.
  std::chrono::seconds ram_ttl{0};         // L1
  std::chrono::seconds compressed_ttl{0};  // L2
  std::chrono::seconds disk_ttl{0};        // L3
  std::string redis_prefix;                      // empty: RedisTierOptions' default (dte:cache:)
  std::optional<std::chrono::seconds> redis_ttl;  // nullopt: RedisTierOptions' default (24 h)
};

// Tracing of `dte serve` (docs/observability.md): spans of service "dte-worker".
struct ServeTracingOptions {
  std::string otlp_endpoint;         // --otlp-endpoint; empty: traces stay in memory
  double sample_ratio = 1.0;         // --trace-sample-ratio
  size_t store_spans = 10000;        // --trace-store-spans
};

struct ServeOptions {
  std::string model_path;
  std::string model_name;  // default: the file name without extension
  std::string vocab_path;  // default: the one embedded in the file / shipped
  std::string chat_template_path;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int io_threads = 1;
  size_t body_limit = 8u << 20;
  std::chrono::seconds drain_timeout{30};
  EngineOptions engine;
  ApiLimits limits;
  ServeCacheOptions cache;
  std::string admin_token;  // POST /v1/cache/clear; empty: loopback clients only
  ServeTracingOptions tracing;
};

// Returns the process exit code.
int RunServe(const ServeOptions& options);

}  // namespace dte::server
